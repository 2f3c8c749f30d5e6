using System.Net;

namespace PgGate.Pooling;

/// <summary>One server connection as SHOW SERVERS lists it.</summary>
public sealed record ServerInfo
{
    /// <summary>ptr (an id rather than an address).</summary>
    public long Id { get; init; }

    public required string User { get; init; }

    public required string Database { get; init; }

    /// <summary>state: active, idle, used, new.</summary>
    public required string State { get; init; }

    public required string Backend { get; init; }

    /// <summary>addr, port</summary>
    public EndPoint? RemoteEndPoint { get; init; }

    /// <summary>local_addr, local_port</summary>
    public EndPoint? LocalEndPoint { get; init; }

    public DateTimeOffset ConnectTime { get; init; }

    public DateTimeOffset RequestTime { get; init; }

    public bool CloseNeeded { get; init; }

    /// <summary>link: the linked client's id.</summary>
    public long? LinkedClientId { get; init; }

    /// <summary>remote_pid: the PostgreSQL backend's process id.</summary>
    public int RemoteProcessId { get; init; }

    public string? ApplicationName { get; init; }

    /// <summary>prepared_statements held on this connection.</summary>
    public int PreparedStatements { get; init; }
}
