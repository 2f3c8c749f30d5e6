namespace PgGate.Failover;

/// <summary>
/// Something on a node that can stop taking new work for a cluster during a switchover: a relay service (new sessions
/// wait before routing), a pooled service or the node pooler (new transactions wait for a server).
/// </summary>
public interface IPauseParticipant
{
    /// <summary>What it is, for the report: <c>pg-test-primary (relay)</c>.</summary>
    string Name { get; }

    /// <summary>Stops new work at once, then waits until running work finished or <paramref name="drain"/> is cancelled.
    /// Returns how many sessions or transactions were still running when it returned.</summary>
    Task<int> PauseAsync(CancellationToken drain);

    /// <summary>Lets waiting work go on; harmless when not paused.</summary>
    void Resume();
}
