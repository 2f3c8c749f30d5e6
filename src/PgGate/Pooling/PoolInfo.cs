namespace PgGate.Pooling;

/// <summary>One pool as SHOW POOLS and SHOW STATS report it (PgBouncer's column names in the comments).</summary>
public sealed record PoolInfo
{
    /// <summary>database</summary>
    public required string Database { get; init; }

    /// <summary>user</summary>
    public required string User { get; init; }

    /// <summary>The backend the pool's servers go to ("host:port" or a Unix socket path); PgGate's own column.</summary>
    public required string Backend { get; init; }

    public string? BackendName { get; init; }

    /// <summary>The front door whose clients use the pool: a <c>dest: pool</c> service (its resolver's
    /// <see cref="IBackendResolver.Name"/>), or null for the pooler's own port.</summary>
    public string? FrontDoor { get; init; }

    /// <summary>cl_active: logged-in clients of the pool not waiting for a server.</summary>
    public int ClientsActive { get; init; }

    /// <summary>cl_waiting</summary>
    public int ClientsWaiting { get; init; }

    /// <summary>cl_active_cancel_req</summary>
    public int ClientsActiveCancelRequests { get; init; }

    /// <summary>cl_waiting_cancel_req</summary>
    public int ClientsWaitingCancelRequests { get; init; }

    /// <summary>sv_active</summary>
    public int ServersActive { get; init; }

    /// <summary>sv_idle</summary>
    public int ServersIdle { get; init; }

    /// <summary>sv_used: released, being cleaned (ROLLBACK, reset query) or waiting for a cancel to land.</summary>
    public int ServersUsed { get; init; }

    /// <summary>sv_tested: always 0 (PgGate runs no server_check_query; idle connections are watched instead).</summary>
    public int ServersTested { get; init; }

    /// <summary>sv_login</summary>
    public int ServersLogin { get; init; }

    /// <summary>maxwait / maxwait_us: how long the oldest waiting client has waited.</summary>
    public TimeSpan MaxWait { get; init; }

    /// <summary>pool_mode</summary>
    public PoolMode PoolMode { get; init; }

    public bool Paused { get; init; }

    /// <summary>The cumulative counters of SHOW STATS.</summary>
    public required PoolStats Stats { get; init; }
}
