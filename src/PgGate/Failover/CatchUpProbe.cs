using System.Diagnostics;
using PgGate.Config;
using PgGate.Protocol.Client;

namespace PgGate.Failover;

/// <summary>
/// Before a promote command runs (no Patroni to do it): waits until the candidate has replayed every WAL record the old
/// primary wrote up to the pause, so that no acknowledged write is lost to replication lag. Patroni's own switchover
/// does this itself; a bare <c>pg_ctl promote</c> does not.
/// </summary>
internal static class CatchUpProbe
{
    /// <summary>Error is null once the candidate has caught up (Detail says how far and how fast), else why it did not.</summary>
    public static async Task<(string? Error, string Detail)> WaitAsync(
        ClusterConfig cluster, MemberConfig oldPrimary, MemberConfig candidate, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        string target;
        try
        {
            // Every node is paused and the old primary fenced: nothing writes through PgGate any more, so this is the end.
            await using var old = await ConnectAsync(cluster, oldPrimary, cancellationToken).ConfigureAwait(false);
            target = (await old.QueryAsync("select pg_current_wal_lsn()::text", cancellationToken).ConfigureAwait(false))[0].Rows[0][0]!;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // An unreachable old primary writes nothing more; what it wrote and did not send is beyond any switchover.
            return (null, $"{oldPrimary.Name} is unreachable ({e.Message}); promoting {candidate.Name} with what it has");
        }

        var last = "not connected";
        try
        {
            await using var replica = await ConnectAsync(cluster, candidate, cancellationToken).ConfigureAwait(false);
            while (true)
            {
                var row = (await replica.QueryAsync("select pg_last_wal_replay_lsn()::text, pg_last_wal_replay_lsn() >= $1::pg_lsn", [target],
                    cancellationToken).ConfigureAwait(false)).Rows[0];
                last = row[0] ?? "nothing replayed";
                if (row[1] == "t")
                {
                    return (null, $"{candidate.Name} replayed {oldPrimary.Name}'s WAL up to {target} in " +
                        $"{Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms");
                }
                if (Stopwatch.GetElapsedTime(started) > timeout)
                    break;
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return ($"cannot tell whether {candidate.Name} has replayed {oldPrimary.Name}'s WAL up to {target} ({e.Message}); " +
                "not promoting it, so that no acknowledged write is lost", "");
        }
        return ($"{candidate.Name} did not replay {oldPrimary.Name}'s WAL up to {target} within {timeout.TotalSeconds:0.#} s " +
            $"(it is at {last}); not promoting it, so that no acknowledged write is lost", "");
    }

    private static Task<PgClient> ConnectAsync(ClusterConfig cluster, MemberConfig member, CancellationToken cancellationToken) =>
        PgClient.ConnectAsync(new PgClientOptions
        {
            Host = member.Host,
            Port = member.PgPort,
            User = cluster.Health.Sql.User,
            Password = cluster.Health.Sql.Password.Resolve(),
            Database = cluster.Health.Sql.Database,
            ApplicationName = "pggate-switchover",
            ConnectTimeout = TimeSpan.FromSeconds(3),
        }, cancellationToken);
}
