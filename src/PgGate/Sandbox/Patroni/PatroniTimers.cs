namespace PgGate.Sandbox.Patroni;

/// <summary>
/// The Patroni half of one of Pigsty's <c>pg_rto_plan</c> entries, in seconds: how long the leader key lives without a
/// refresh (<c>ttl</c>), how often Patroni's HA loop runs (<c>loop_wait</c>), how long DCS and PostgreSQL operations are
/// retried (<c>retry_timeout</c>) and how long a crashed primary may take to come back before it gives up the key
/// (<c>primary_start_timeout</c>).
/// </summary>
public sealed record PatroniTimers(int Ttl, int LoopWait, int RetryTimeout, int PrimaryStartTimeout)
{
    /// <summary>Pigsty's <c>fast</c> plan: ttl 20, loop_wait 5, retry_timeout 5, primary_start_timeout 15.</summary>
    public static PatroniTimers Fast { get; } = new(20, 5, 5, 15);

    /// <summary>Pigsty's <c>norm</c> plan (its default): ttl 30, loop_wait 5, retry_timeout 10, primary_start_timeout 25.</summary>
    public static PatroniTimers Norm { get; } = new(30, 5, 10, 25);

    /// <summary>Pigsty's <c>safe</c> plan: ttl 60, loop_wait 10, retry_timeout 20, primary_start_timeout 45.</summary>
    public static PatroniTimers Safe { get; } = new(60, 10, 20, 45);

    /// <summary>Pigsty's <c>wide</c> plan: ttl 120, loop_wait 20, retry_timeout 30, primary_start_timeout 95.</summary>
    public static PatroniTimers Wide { get; } = new(120, 20, 30, 95);

    /// <summary>The plan of that name (<c>fast</c>, <c>norm</c>, <c>safe</c>, <c>wide</c>); Pigsty falls back to <c>norm</c>
    /// for an unknown name, this throws instead so a typo in a test is seen.</summary>
    public static PatroniTimers ForPlan(string name) => name switch
    {
        "fast" => Fast,
        "norm" => Norm,
        "safe" => Safe,
        "wide" => Wide,
        _ => throw new ArgumentException($"Unknown RTO plan '{name}': use fast, norm, safe or wide.", nameof(name)),
    };

    public override string ToString() =>
        $"ttl {Ttl} s, loop_wait {LoopWait} s, retry_timeout {RetryTimeout} s, primary_start_timeout {PrimaryStartTimeout} s";

    internal void Validate()
    {
        if (LoopWait < 1 || RetryTimeout < 1 || PrimaryStartTimeout < 0)
            throw new SandboxException($"Invalid Patroni timers {this}: loop_wait and retry_timeout must be at least 1 s.");

        // Patroni's own rule (and Pigsty's): otherwise a slow DCS call can outlive the leader key.
        if (LoopWait + 2 * RetryTimeout > Ttl)
            throw new SandboxException($"Invalid Patroni timers {this}: loop_wait + 2 × retry_timeout must not exceed ttl.");
    }
}
