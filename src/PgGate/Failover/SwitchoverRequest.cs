namespace PgGate.Failover;

/// <summary>What to switch over and how patiently.</summary>
public sealed record SwitchoverRequest
{
    public required string Cluster { get; init; }

    /// <summary>The member to promote; null lets Patroni pick (required with a promote command).</summary>
    public string? To { get; init; }

    /// <summary>Hand the switchover to Patroni for this time instead of now (no pause: PgGate follows it like a failover).</summary>
    public DateTimeOffset? ScheduledAt { get; init; }

    /// <summary>How long running pooled transactions may take to finish after new ones stop.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long every node must take to route writes to the new leader once it is promoted.</summary>
    public TimeSpan LeaderTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Without Patroni: the command that promotes <see cref="To"/> (run by <c>/bin/sh -c</c>, with
    /// <c>PGGATE_CLUSTER</c>, <c>PGGATE_CANDIDATE</c>, <c>PGGATE_CANDIDATE_HOST</c>, <c>PGGATE_CANDIDATE_PORT</c>,
    /// <c>PGGATE_OLD_PRIMARY</c>, <c>PGGATE_OLD_PRIMARY_HOST</c>, <c>PGGATE_OLD_PRIMARY_PORT</c> set).</summary>
    public string? PromoteCommand { get; init; }

    /// <summary>How long the promote command, or Patroni's switchover, may take.</summary>
    public TimeSpan PromoteTimeout { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>Pauses end by themselves after this long even if the coordinator never resumes them.</summary>
    public TimeSpan HoldLimit => DrainTimeout + PromoteTimeout + LeaderTimeout + TimeSpan.FromSeconds(30);
}
