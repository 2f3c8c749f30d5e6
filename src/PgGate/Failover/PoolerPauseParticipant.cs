using PgGate.Hosting;
using PgGate.Pooling;

namespace PgGate.Failover;

/// <summary>
/// A node's pooler paused for a switchover of one cluster, PgBouncer's PAUSE for that cluster's pools only: new
/// transactions of the cluster's pooled services, and of the pooler port when the node's own member is in the cluster,
/// wait (clients stay connected); other clusters' services on the same pooler go on. The pause completes when every
/// running transaction has given its server back, and those server connections (to the old primary) are closed, so the
/// next transaction opens one to the new leader.
/// </summary>
internal sealed class PoolerPauseParticipant : IPauseParticipant
{
    private readonly NodePooler _pooler;
    private readonly PoolPauseScope _scope;

    public PoolerPauseParticipant(NodePooler pooler, string cluster, bool ownMemberInCluster)
    {
        _pooler = pooler;
        var frontDoors = pooler.Services.Where(s => s.Router.Cluster.Name == cluster && s.Resolver is not null)
            .Select(s => (IBackendResolver)s.Resolver!).ToHashSet();
        var ownPort = ownMemberInCluster ? pooler.Pooler.DefaultResolver : null;
        _scope = new PoolPauseScope(key => frontDoors.Contains(key.Resolver) || ReferenceEquals(key.Resolver, ownPort));
    }

    public string Name => $"pooler{(_pooler.Member is { } m ? " of " + m.Name : "")} (pool)";

    public async Task<int> PauseAsync(CancellationToken drain)
    {
        try
        {
            await _pooler.Pooler.PauseAsync(_scope, drain).ConfigureAwait(false);
            return 0;
        }
        catch (OperationCanceledException)
        {
            // The drain timeout passed: those transactions meet the switchover and get the failover error.
            var running = 0;
            foreach (var s in _pooler.Pooler.GetServers())
            {
                if (s.State == "active")
                    running++;
            }
            return Math.Max(running, 1);
        }
    }

    public void Resume() => _pooler.Pooler.Resume(_scope);
}
