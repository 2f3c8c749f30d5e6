namespace PgGate.Config;

/// <summary>
/// Per-server settings with HAProxy's <c>default-server</c> meaning (a service's <c>options</c> string).
/// Defaults are Pigsty's <c>norm</c> RTO plan: <c>inter 2s fastinter 1s downinter 2s rise 3 fall 3
/// on-marked-down shutdown-sessions slowstart 30s maxconn 3000 maxqueue 128 weight 100</c>.
/// </summary>
public sealed record ServerOptions
{
    /// <summary>Check interval while the server is fully up.</summary>
    public TimeSpan Inter { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Check interval while the server is changing state (going up, going down, not yet checked).</summary>
    public TimeSpan FastInter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Check interval while the server is fully down.</summary>
    public TimeSpan DownInter { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Consecutive passing checks that bring a down server up.</summary>
    public int Rise { get; init; } = 3;

    /// <summary>Consecutive failing checks that bring an up server down.</summary>
    public int Fall { get; init; } = 3;

    /// <summary><c>on-marked-down shutdown-sessions</c>: close a server's sessions the moment it goes down.</summary>
    public bool ShutdownSessionsOnMarkedDown { get; init; } = true;

    /// <summary>After coming back up, weight and maxconn ramp linearly from ~0 to 100% over this time. Zero disables it.</summary>
    public TimeSpan SlowStart { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Concurrent sessions per server; more wait in the queue. Zero means unlimited.</summary>
    public int MaxConn { get; init; } = 3000;

    /// <summary>Sessions that may wait for this server; beyond it a client is refused. Zero means unlimited.</summary>
    public int MaxQueue { get; init; } = 128;

    /// <summary>Default weight (0-256); a member's own weight overrides it.</summary>
    public int Weight { get; init; } = 100;

    /// <summary>Cap on one check's duration (HAProxy <c>timeout check</c>).</summary>
    public TimeSpan CheckTimeout { get; init; } = TimeSpan.FromSeconds(3);

    public static ServerOptions Norm { get; } = new();
}
