using PgGate.Sandbox.Patroni;

namespace PgGate.IntegrationTests.Failover;

/// <summary>
/// bench/failover/run.sh's measurement (skipped unless <c>PGGATE_FAILOVER_BENCH=1</c>): every scenario, N times
/// (<c>PGGATE_FAILOVER_RUNS</c>, default 3), with the same load through PgGate (pooled and relayed) and through
/// HAProxy + PgBouncer as Pigsty configures them, during the same failover, so both stacks meet the identical event.
/// Results go to <c>PGGATE_FAILOVER_RESULTS</c> (tab-separated) for the script's table. Benchmarks assert nothing
/// about speed; they only check that the run measured something.
/// </summary>
[Collection("failover")]
public sealed class FailoverBenchmark(FailoverFixture fixture)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_scenario_through_PgGate_and_through_HAProxy_with_PgBouncer()
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable("PGGATE_FAILOVER_BENCH") == "1",
            "a benchmark: run bench/failover/run.sh (sets PGGATE_FAILOVER_BENCH=1)");
        var missing = PigstyStack.MissingReason();
        Assert.SkipWhen(missing is not null, missing ?? "");
        var cluster = fixture.RequireCluster();
        var runs = int.TryParse(Environment.GetEnvironmentVariable("PGGATE_FAILOVER_RUNS"), out var n) ? n : 3;
        var only = Environment.GetEnvironmentVariable("PGGATE_FAILOVER_SCENARIOS")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var haproxyAddress = Environment.GetEnvironmentVariable("PGGATE_FAILOVER_HAPROXY_ADDR") ?? "127.0.0.50";
        await using var pigsty = await PigstyStack.StartAsync(cluster, haproxyAddress, Cancel);

        (string Name, Func<PatroniMember, CancellationToken, Task> Fault, bool NewLeader)[] scenarios =
        [
            ("kill -9 postmaster", async (m, _) => await cluster.KillPostgresAsync(m), false),
            ("stop Patroni", (m, ct) => cluster.StopPatroniAsync(m, ct), true),
            ("kill node", async (m, _) => await cluster.KillNodeAsync(m), true),
            ("old primary without key", async (m, _) => await m.Process!.KillAsync(), true),
            ("switchover", SwitchoverAsync, true),
        ];
        var measured = 0;
        for (var run = 0; run < runs; run++)
        {
            foreach (var (name, fault, newLeader) in scenarios)
            {
                if (only is not null && !only.Contains(name))
                    continue;
                await fixture.ResetAsync(Cancel);
                var bystander = await BystanderAsync(cluster);
                var results = await FailoverScenario.RunAsync(fixture, name,
                    [
                        ("pggate pool", FailoverFixture.PooledTarget(bystander)),
                        ("pggate relay", FailoverFixture.RelayTarget(bystander)),
                        ("haproxy+pgbouncer", pigsty.Target),
                    ],
                    fault, newLeader, Cancel);
                measured += results.Count;
            }
        }
        Assert.True(measured > 0);
    }

    /// <summary>The planned switchover as an operator runs it with PgGate: through PgGate's admin API, which pauses every
    /// node around Patroni's switchover. HAProxy's clients meet the same switchover unpaused, as with Pigsty's
    /// <c>pg switchover</c>.</summary>
    private async Task SwitchoverAsync(PatroniMember leader, CancellationToken cancellationToken)
    {
        var cluster = fixture.Cluster;
        var target = await fixture.WaitForSyncStandbyAsync(leader.Name, TimeSpan.FromSeconds(30), cancellationToken);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(150) };
        var node = cluster.Members.First(m => m != leader).Host;
        using var response = await System.Net.Http.Json.HttpClientJsonExtensions.PostAsJsonAsync(http,
            $"http://{node}:9101/api/clusters/{cluster.Name}/switchover", new { to = target }, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        TestContext.Current.TestOutputHelper?.WriteLine("switchover API: " + text);
        Assert.True(response.IsSuccessStatusCode, text);
    }

    private static async Task<PatroniMember> BystanderAsync(PatroniCluster cluster)
    {
        var leader = await cluster.WaitForLeaderAsync(l => l is not null, TimeSpan.FromSeconds(30), Cancel);
        using var client = cluster.CreateClient();
        var status = await client.GetClusterAsync(Cancel);
        var sync = status.Members.FirstOrDefault(m => m.IsSyncStandby)?.Name;
        return cluster.Members.FirstOrDefault(m => m.Name != leader && m.Name != sync) ?? cluster.Members.First(m => m.Name != leader);
    }
}
