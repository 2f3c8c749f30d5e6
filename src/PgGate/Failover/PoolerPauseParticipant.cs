using PgGate.Hosting;

namespace PgGate.Failover;

/// <summary>
/// A node's pooler paused for a switchover, PgBouncer's PAUSE: new transactions of its pooled services and of its pooler
/// port wait (clients stay connected); the pause completes when every running transaction has given its server back,
/// and those server connections (to the old primary) are closed, so the next transaction opens one to the new leader.
/// </summary>
internal sealed class PoolerPauseParticipant(NodePooler pooler) : IPauseParticipant
{
    public string Name => $"pooler{(pooler.Member is { } m ? " of " + m.Name : "")} (pool)";

    public async Task<int> PauseAsync(CancellationToken drain)
    {
        try
        {
            await pooler.Pooler.PauseAsync(null, drain).ConfigureAwait(false);
            return 0;
        }
        catch (OperationCanceledException)
        {
            // The drain timeout passed: those transactions meet the switchover and get the failover error.
            var running = 0;
            foreach (var s in pooler.Pooler.GetServers())
            {
                if (s.State == "active")
                    running++;
            }
            return Math.Max(running, 1);
        }
    }

    public void Resume() => pooler.Pooler.Resume(null);
}
