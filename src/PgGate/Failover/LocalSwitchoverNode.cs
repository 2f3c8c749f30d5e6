using PgGate.Hosting;

namespace PgGate.Failover;

/// <summary>A node of this process.</summary>
public sealed class LocalSwitchoverNode(GateNode node) : ISwitchoverNode
{
    public string Name => node.Name;

    public Task<PauseOutcome> PauseAsync(string cluster, TimeSpan drainTimeout, TimeSpan holdLimit, string? fence, CancellationToken cancellationToken) =>
        Control(cluster).PauseAsync(drainTimeout, holdLimit, fence, cancellationToken);

    public Task ResumeAsync(string cluster, CancellationToken cancellationToken)
    {
        Control(cluster).Resume();
        return Task.CompletedTask;
    }

    public Task<string?> LeaderAsync(string cluster, CancellationToken cancellationToken) =>
        Task.FromResult(Control(cluster).Monitor.Current.WriteLeader?.Name);

    public async Task<string> WaitForLeaderAsync(string cluster, string? expected, string? old, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var view = await Control(cluster).Monitor.WaitForAsync(
            v => v.WriteLeader?.Name is { } l && (expected is null ? l != old : l == expected), timeout, cancellationToken).ConfigureAwait(false);
        return view.WriteLeader!.Name;
    }

    private ClusterPauseControl Control(string cluster) => node.PauseControl(cluster)
        ?? throw new InvalidOperationException($"node {node.Name} does not serve cluster '{cluster}'");
}
