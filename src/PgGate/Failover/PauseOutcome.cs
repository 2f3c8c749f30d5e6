namespace PgGate.Failover;

/// <summary>What pausing one cluster on one node did.</summary>
/// <param name="Node">The node's name.</param>
/// <param name="Paused">What was paused, e.g. <c>pg-test-primary (relay)</c>.</param>
/// <param name="StillRunning">Sessions or transactions still running when the drain ended, per participant name.</param>
/// <param name="Drained">True when every pooled transaction finished within the drain timeout.</param>
/// <param name="ElapsedMs">Time the pause and drain took on the node.</param>
public sealed record PauseOutcome(string Node, IReadOnlyList<string> Paused, IReadOnlyDictionary<string, int> StillRunning, bool Drained, double ElapsedMs);
