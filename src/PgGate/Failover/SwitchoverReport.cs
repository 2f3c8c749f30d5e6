namespace PgGate.Failover;

/// <summary>The outcome of a switchover: every step with its timing, and the error that stopped it, if any.</summary>
public sealed record SwitchoverReport(bool Ok, string? OldLeader, string? NewLeader, IReadOnlyList<SwitchoverStep> Steps, string? Error, double TotalMs);
