using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;
using PgGate.Cluster.Dcs;
using PgGate.IntegrationTests.Fixtures;
using PgGate.Sandbox.Patroni;

namespace PgGate.IntegrationTests.Failover;

/// <summary>
/// Runs one failover under load and measures it: resets the cluster, starts a load through every given stack, applies the
/// fault to the leader, notes when etcd names a new leader and when its PostgreSQL first answers as primary, waits for
/// the first write through each stack after that, lets the load run on briefly, then checks every acknowledged write
/// against the new primary.
/// </summary>
internal static class FailoverScenario
{
    /// <summary>Writes each stack must acknowledge after the change before the run ends, so every result has enough to judge.</summary>
    public const int RunOnWrites = 30;

    public static async Task<IReadOnlyList<FailoverResult>> RunAsync(
        FailoverFixture fixture,
        string scenario,
        IReadOnlyList<(string Stack, LoadTarget Target)> stacks,
        Func<PatroniMember, CancellationToken, Task> fault,
        bool expectNewLeader,
        CancellationToken cancellationToken)
    {
        var old = await fixture.ResetAsync(cancellationToken);
        var cluster = fixture.Cluster;
        var table = "failover_probe";
        var loads = new List<FailoverLoad>();
        await using var watch = new EtcdLeaderWatch(new EtcdLeaderWatchOptions
        {
            Endpoints = [cluster.Etcd.ClientUrl],
            Namespace = cluster.Options.Namespace,
            Scope = cluster.Name,
        }, TimeProvider.System, TestContextLogger.Instance);
        watch.Start();
        await watch.WaitForAsync(s => s.IsHeldBy(old.Name), TimeSpan.FromSeconds(10), cancellationToken);

        try
        {
            for (var i = 0; i < stacks.Count; i++)
            {
                var load = new FailoverLoad(stacks[i].Target, $"{table}_{i}");
                loads.Add(load);
                await load.StartAsync(cancellationToken);
            }
            var steady = Stopwatch.GetTimestamp();
            foreach (var load in loads)
            {
                // Steady state: writes flow through every stack before the fault.
                await load.WaitForWriteAfterAsync(steady, TimeSpan.FromSeconds(15), cancellationToken);
                await load.WaitForWriteAfterAsync(Stopwatch.GetTimestamp(), TimeSpan.FromSeconds(15), cancellationToken);
            }

            using var probeStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var primaryProbe = PostgresPrimaryProbeAsync(cluster, old, probeStop.Token);
            var faultAt = Stopwatch.GetTimestamp();
            await fault(old, cancellationToken);

            string? newLeader = null;
            long? promotedAt = null;
            if (expectNewLeader)
            {
                var state = await watch.WaitForAsync(s => s.IsCurrent && s.Leader is { } l && l != old.Name, TimeSpan.FromSeconds(90), cancellationToken);
                newLeader = state.Leader;
                promotedAt = state.ObservedTimestamp;
            }
            var leaderMember = cluster.Member(newLeader ?? old.Name);
            var firstWrites = new long[loads.Count];
            for (var i = 0; i < loads.Count; i++)
                firstWrites[i] = await loads[i].WaitForWriteAfterAsync(promotedAt ?? faultAt, TimeSpan.FromSeconds(90), cancellationToken, leaderMember.Host);

            // PostgreSQL's own moment of becoming primary, to tell the routing layer's share from Patroni's and PostgreSQL's.
            long? pgPrimaryAt = null;
            if (newLeader is not null)
            {
                var seen = await primaryProbe.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
                pgPrimaryAt = seen.TryGetValue(newLeader, out var at) ? at : null;
            }
            await probeStop.CancelAsync();
            await ((Task)primaryProbe).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

            // Let the load run on against the new topology, so writes after the change count too: at least a second and
            // RunOnWrites writes through every stack (a relay client that failed writes through the outage has few from
            // before it). Without a new leader (PostgreSQL restarted in place) a write or two may still pass right after
            // the fault: run on until it is back.
            if (!expectNewLeader)
                await cluster.WaitUntilHealthyAsync(TimeSpan.FromSeconds(90), cancellationToken);
            var after = Stopwatch.GetTimestamp();
            foreach (var load in loads)
            {
                await load.WaitForWriteAfterAsync(after + Stopwatch.Frequency, TimeSpan.FromSeconds(30), cancellationToken);
                await load.WaitForWriteAfterAsync(after, TimeSpan.FromSeconds(30), cancellationToken, count: RunOnWrites);
            }

            var results = new List<FailoverResult>();
            for (var i = 0; i < loads.Count; i++)
            {
                var load = loads[i];
                var droppedIdle = await load.StopAsync();
                var missing = await load.MissingOnAsync(FailoverFixture.Direct(leaderMember), cancellationToken);
                var wrong = promotedAt is { } p ? load.Acked.Count(a => a.AckedAt > p && a.Server != leaderMember.Host) : 0;
                var reference = promotedAt is { } pr && pgPrimaryAt is { } pg ? Math.Max(pr, pg) : (long?)null;
                results.Add(new FailoverResult(
                    scenario,
                    stacks[i].Stack,
                    old.Name,
                    newLeader,
                    promotedAt is { } pa ? FailoverFixture.Ms(pa, firstWrites[i]) : null,
                    reference is { } r ? FailoverFixture.Ms(r, firstWrites[i]) : null,
                    FailoverFixture.Ms(faultAt, firstWrites[i]),
                    load.WriteFailures.Count,
                    load.ReadFailures.Count,
                    load.LongestWrite.TotalMilliseconds,
                    load.DroppedConnections,
                    droppedIdle,
                    load.Acked.Count,
                    missing.Count,
                    wrong,
                    Outage(load, faultAt)));
                // Through the test logger, so PGGATE_TEST_LOG_FILE keeps them beside PgGate's own log lines.
                TestContextLogger.Instance.LogInformation("{Result}", results[^1].ToString());
                foreach (var kind in load.WriteFailures.GroupBy(f => f.Error))
                {
                    TestContextLogger.Instance.LogInformation("  {Stack}: {Count} write failure(s) from +{First:0} ms: {Error}",
                        stacks[i].Stack, kind.Count(), FailoverFixture.Ms(faultAt, kind.First().At), kind.Key);
                }
            }
            Record(results);
            return results;
        }
        finally
        {
            foreach (var load in loads)
                await load.DisposeAsync();
        }
    }

    private static double Outage(FailoverLoad load, long faultAt)
    {
        var acks = load.Acked.Select(a => a.AckedAt).Order().ToList();
        var start = acks.FindLastIndex(a => a < faultAt);
        double longest = 0;
        for (var i = Math.Max(start, 0) + 1; i < acks.Count; i++)
            longest = Math.Max(longest, FailoverFixture.Ms(acks[i - 1], acks[i]));
        return longest;
    }

    /// <summary>Polls every member but the old leader directly (own connections, every 10 ms) and notes when each first
    /// answers <c>pg_is_in_recovery() = false</c>.</summary>
    private static async Task<ConcurrentDictionary<string, long>> PostgresPrimaryProbeAsync(PatroniCluster cluster, PatroniMember old, CancellationToken stop)
    {
        var seen = new ConcurrentDictionary<string, long>();
        var probes = cluster.Members.Where(m => m != old).Select(m => Task.Run(async () =>
        {
            NpgsqlConnection? c = null;
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        if (c is null)
                        {
                            c = new NpgsqlConnection(FailoverFixture.Direct(m));
                            await c.OpenAsync(stop);
                        }
                        await using var cmd = new NpgsqlCommand("SELECT pg_is_in_recovery()", c);
                        if (await cmd.ExecuteScalarAsync(stop) is false)
                        {
                            seen.TryAdd(m.Name, Stopwatch.GetTimestamp());
                            return;
                        }
                    }
                    catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException)
                    {
                        if (c is not null)
                            await c.DisposeAsync();
                        c = null;
                    }
                    await Task.Delay(10, stop);
                }
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }
            finally
            {
                if (c is not null)
                    await c.DisposeAsync();
            }
        }, CancellationToken.None)).ToArray();
        // Returns once one of them saw a primary, or when stopped.
        while (!stop.IsCancellationRequested && seen.IsEmpty && probes.Any(p => !p.IsCompleted))
            await Task.Delay(10, CancellationToken.None);
        return seen;
    }

    /// <summary>Appends results to <c>$PGGATE_FAILOVER_RESULTS</c> (tab-separated) when set: bench/failover/run.sh reads it.</summary>
    private static void Record(IReadOnlyList<FailoverResult> results)
    {
        var file = Environment.GetEnvironmentVariable("PGGATE_FAILOVER_RESULTS");
        if (string.IsNullOrEmpty(file))
            return;
        lock (typeof(FailoverScenario))
            File.AppendAllLines(file, results.Select(r => r.ToTsv()));
    }
}
