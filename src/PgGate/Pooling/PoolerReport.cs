namespace PgGate.Pooling;

/// <summary>
/// Everything the admin console, the JSON status and /metrics show about the pooler, taken at one moment
/// (<see cref="Pooler.GetReport"/>). Each list is a copy; nothing in it changes afterwards.
/// </summary>
public sealed record PoolerReport
{
    /// <summary>SHOW VERSION's text.</summary>
    public required string Version { get; init; }

    public DateTimeOffset Time { get; init; }

    public TimeSpan Uptime { get; init; }

    /// <summary>SHOW POOLS (and the per-pool counters).</summary>
    public required IReadOnlyList<PoolInfo> Pools { get; init; }

    /// <summary>SHOW CLIENTS (logged-in clients, admin console clients included).</summary>
    public required IReadOnlyList<ClientInfo> Clients { get; init; }

    /// <summary>SHOW SERVERS</summary>
    public required IReadOnlyList<ServerInfo> Servers { get; init; }

    /// <summary>SHOW DATABASES</summary>
    public required IReadOnlyList<DatabaseInfo> Databases { get; init; }

    /// <summary>SHOW STATS, one row per database.</summary>
    public required IReadOnlyList<DatabaseStats> Stats { get; init; }

    /// <summary>SHOW USERS</summary>
    public required IReadOnlyList<PoolerUser> Users { get; init; }

    /// <summary>SHOW LISTS</summary>
    public required PoolerLists Lists { get; init; }

    /// <summary>Clients connected, including those logging in.</summary>
    public int ClientCount { get; init; }

    public long Logins { get; init; }

    public long AuthenticationFailures { get; init; }

    public long ProtocolErrors { get; init; }

    /// <summary>Databases paused by PAUSE or KILL (all of them: <see cref="PausedAll"/>).</summary>
    public bool PausedAll { get; init; }
}
