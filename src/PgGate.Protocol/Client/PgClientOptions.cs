using PgGate.Protocol.Auth;

namespace PgGate.Protocol.Client;

/// <summary>Where and how <see cref="PgClient"/> connects.</summary>
public sealed class PgClientOptions
{
    /// <summary>An IP address, a host name, or a directory holding PostgreSQL's Unix socket (starts with '/').</summary>
    public required string Host { get; init; }

    public int Port { get; init; } = 5432;

    public required string User { get; init; }

    /// <summary>Used for cleartext, MD5 and SCRAM-SHA-256; null when the server is expected to trust the client.</summary>
    public string? Password { get; init; }

    /// <summary>SCRAM keys to use instead of <see cref="Password"/> (SCRAM pass-through); ignored for other methods.</summary>
    public ScramKeys? ScramKeys { get; init; }

    /// <summary>Database name; PostgreSQL defaults it to the user name when null.</summary>
    public string? Database { get; init; }

    public string? ApplicationName { get; init; }

    /// <summary>More startup parameters (e.g. "options", "replication", GUCs). client_encoding is UTF8 unless set here.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? StartupParameters { get; init; }

    /// <summary>Time allowed for the whole connection: name resolution, TCP connect, authentication and startup.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The largest message accepted from the server; a larger length field means a broken stream.</summary>
    public int MaxMessageLength { get; init; } = ProtocolConstants.DefaultMaxMessageLength;

    /// <summary>Called for every NoticeResponse (warnings, notices) the server sends; may be null.</summary>
    public Action<PgErrorFields>? NoticeHandler { get; init; }

    internal string Describe() => Host.StartsWith('/') ? $"{Host}/.s.PGSQL.{Port}" : $"{Host}:{Port}";
}
