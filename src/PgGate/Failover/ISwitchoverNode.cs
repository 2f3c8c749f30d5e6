namespace PgGate.Failover;

/// <summary>A PgGate node as a switchover sees it: in this process, or reached through its admin HTTP API.</summary>
public interface ISwitchoverNode
{
    /// <summary>Name or admin address, for the report.</summary>
    string Name { get; }

    Task<PauseOutcome> PauseAsync(string cluster, TimeSpan drainTimeout, TimeSpan holdLimit, string? fence, CancellationToken cancellationToken);

    Task ResumeAsync(string cluster, CancellationToken cancellationToken);

    /// <summary>The member writes go to in this node's view now (null: none), without waiting.</summary>
    Task<string?> LeaderAsync(string cluster, CancellationToken cancellationToken);

    /// <summary>Waits until writes go to <paramref name="expected"/> (or, when null, to any member other than
    /// <paramref name="old"/>) in this node's view; returns that member. Throws <see cref="TimeoutException"/>.</summary>
    Task<string> WaitForLeaderAsync(string cluster, string? expected, string? old, TimeSpan timeout, CancellationToken cancellationToken);
}
