using System.Net;

namespace PgGate.Pooling;

/// <summary>One logged-in client as SHOW CLIENTS lists it.</summary>
public sealed record ClientInfo
{
    /// <summary>ptr (an id rather than an address).</summary>
    public long Id { get; init; }

    public required string User { get; init; }

    public required string Database { get; init; }

    /// <summary>state: active, waiting, active_cancel_req, waiting_cancel_req.</summary>
    public required string State { get; init; }

    /// <summary>addr, port</summary>
    public EndPoint? RemoteEndPoint { get; init; }

    /// <summary>local_addr, local_port</summary>
    public EndPoint? LocalEndPoint { get; init; }

    public DateTimeOffset ConnectTime { get; init; }

    /// <summary>request_time: last request or answer.</summary>
    public DateTimeOffset RequestTime { get; init; }

    /// <summary>wait, wait_us: how long it has been waiting for a server.</summary>
    public TimeSpan Wait { get; init; }

    /// <summary>link: the linked server's id.</summary>
    public long? LinkedServerId { get; init; }

    /// <summary>The process id in the client's BackendKeyData (the pooler's own).</summary>
    public int CancelProcessId { get; init; }

    public bool Tls { get; init; }

    public string? ApplicationName { get; init; }

    public PoolMode PoolMode { get; init; }
}
