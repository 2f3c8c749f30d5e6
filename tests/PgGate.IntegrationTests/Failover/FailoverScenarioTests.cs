using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using PgGate.Sandbox.Patroni;

namespace PgGate.IntegrationTests.Failover;

/// <summary>
/// The failures a primary can suffer, under a steady mixed load through PgGate (writes through the primary service,
/// reads through the replica service, idle clients), against real Patroni and etcd in synchronous mode. For every
/// scenario: no acknowledged write is missing on the new primary, no write lands anywhere but on the leader, and once
/// the new leader's PostgreSQL is primary, writes flow through PgGate within a bound (the target is 100 ms; the
/// bound here is 1 s because a shared two-core machine stalls processes for hundreds of milliseconds; the benchmark
/// records the real distribution).
/// </summary>
[Collection("failover")]
public sealed class FailoverScenarioTests(FailoverFixture fixture)
{
    private static readonly TimeSpan RoutingBound = TimeSpan.FromSeconds(1);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>Clients use the PgGate node beside a member that the scenario does not touch.</summary>
    private async Task<(string, LoadTarget)[]> GateStackAsync()
    {
        var cluster = fixture.RequireCluster();
        var leader = await cluster.WaitForLeaderAsync(l => l is not null, TimeSpan.FromSeconds(30), Cancel);
        var sync = await SyncStandbyAsync(cluster);
        var bystander = cluster.Members.FirstOrDefault(m => m.Name != leader && m.Name != sync) ?? cluster.Members.First(m => m.Name != leader);
        return [("pggate pool", FailoverFixture.PooledTarget(bystander)), ("pggate relay", FailoverFixture.RelayTarget(bystander))];
    }

    [Fact]
    public async Task Killing_the_primarys_postmaster_loses_no_acknowledged_write_and_writes_resume_on_the_leader()
    {
        fixture.RequireCluster();
        await fixture.ResetAsync(Cancel);
        var results = await FailoverScenario.RunAsync(fixture, "kill -9 postmaster", await GateStackAsync(),
            async (leader, _) => await fixture.Cluster.KillPostgresAsync(leader), expectNewLeader: false, Cancel);
        AssertSafe(results);
    }

    [Fact]
    public async Task Stopping_the_primarys_Patroni_moves_writes_to_the_new_leader_at_once()
    {
        fixture.RequireCluster();
        await fixture.ResetAsync(Cancel);
        var results = await FailoverScenario.RunAsync(fixture, "stop Patroni", await GateStackAsync(),
            (leader, ct) => fixture.Cluster.StopPatroniAsync(leader, ct), expectNewLeader: true, Cancel);
        AssertSafe(results);
        AssertFast(results);
    }

    [Fact]
    public async Task Killing_the_primarys_whole_node_moves_writes_to_the_new_leader_as_soon_as_etcd_names_it()
    {
        fixture.RequireCluster();
        await fixture.ResetAsync(Cancel);
        var results = await FailoverScenario.RunAsync(fixture, "kill node", await GateStackAsync(),
            async (leader, _) => await fixture.Cluster.KillNodeAsync(leader), expectNewLeader: true, Cancel);
        AssertSafe(results);
        AssertFast(results);
    }

    [Fact]
    public async Task An_old_primary_still_running_without_the_leader_key_gets_no_writes()
    {
        fixture.RequireCluster();
        await fixture.ResetAsync(Cancel);
        PatroniMember? zombie = null;
        var results = await FailoverScenario.RunAsync(fixture, "old primary without key", await GateStackAsync(),
            async (leader, _) =>
            {
                // Patroni dies, its PostgreSQL runs on as a primary nobody demotes; the key expires after ttl.
                zombie = leader;
                await leader.Process!.KillAsync();
            }, expectNewLeader: true, Cancel);
        AssertSafe(results);

        // The scenario means something only if the old primary still says it is one.
        await using (var c = new NpgsqlConnection(FailoverFixture.Direct(zombie!)))
        {
            await c.OpenAsync(Cancel);
            await using var cmd = new NpgsqlCommand("SELECT pg_is_in_recovery()", c);
            Assert.Equal(false, await cmd.ExecuteScalarAsync(Cancel));
        }
        Assert.Equal(results[0].NewLeader, fixture.Monitor.Current.WriteLeader?.Name);
    }

    [Fact]
    public async Task Planned_switchover_through_the_admin_api_pauses_every_node_and_loses_nothing()
    {
        var cluster = fixture.RequireCluster();
        await fixture.ResetAsync(Cancel);
        var stacks = await GateStackAsync();
        JsonElement report = default;
        var results = await FailoverScenario.RunAsync(fixture, "switchover (pggate)", stacks,
            async (leader, ct) =>
            {
                var target = await SyncStandbyAsync(cluster) ?? cluster.Members.First(m => m.Name != leader.Name).Name;
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(120) };
                var node = stacks[0].Item2.Host;
                using var response = await http.PostAsJsonAsync($"http://{node}:9101/api/clusters/{cluster.Name}/switchover", new { to = target }, ct);
                var text = await response.Content.ReadAsStringAsync(ct);
                TestContext.Current.TestOutputHelper?.WriteLine("switchover API: " + text);
                Assert.True(response.IsSuccessStatusCode, text);
                report = JsonDocument.Parse(text).RootElement.Clone();
            }, expectNewLeader: true, Cancel);
        AssertSafe(results);
        Assert.True(report.GetProperty("ok").GetBoolean());
        Assert.Equal(["leader", "pause", "switchover", "resume", "patroni"], report.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("step").GetString()));
        Assert.Equal(results[0].NewLeader, report.GetProperty("new_leader").GetString());
        // Every node was resumed.
        Assert.All(fixture.Gate.Nodes, n => Assert.False(n.PauseControl(cluster.Name)!.IsPaused));
        // Pooled clients see latency, not errors; relay sessions to the old primary end when Patroni stops it, so at most
        // the one write in flight per relay writer fails.
        var pooled = results.Single(r => r.Stack == "pggate pool");
        Assert.True(pooled.FailedWrites == 0 && pooled.FailedReads == 0, $"pooled: {pooled.FailedWrites} failed writes, {pooled.FailedReads} failed reads");
        var relay = results.Single(r => r.Stack == "pggate relay");
        Assert.True(relay.FailedWrites <= 2, $"relay: {relay.FailedWrites} failed writes");
    }

    [Fact]
    public async Task Planned_switchover_from_the_command_line_reports_each_step_and_pooled_clients_see_no_error()
    {
        var cluster = fixture.RequireCluster();
        await fixture.ResetAsync(Cancel);
        var config = Path.Combine(Path.GetTempPath(), $"pggate-failover-{Guid.NewGuid():N}.yml");
        await File.WriteAllTextAsync(config, FailoverFixture.Yaml(cluster, "/dev/null"), Cancel);
        try
        {
            // A wrong candidate: one line, exit 1, nothing paused.
            var (code, stdout, stderr) = await Cli.PggateProcess.RunAsync("switchover", cluster.Name, "-c", config, "--to", "pg-test-9");
            Assert.Equal(1, code);
            Assert.Equal("pggate: switchover of pg-test failed: cluster pg-test has no member 'pg-test-9' (members: pg-test-1, pg-test-2, pg-test-3)", stderr.Trim());
            Assert.Equal("", stdout);

            string output = "";
            var results = await FailoverScenario.RunAsync(fixture, "switchover (pggate CLI)", await GateStackAsync(),
                async (leader, ct) =>
                {
                    var target = await fixture.WaitForSyncStandbyAsync(leader.Name, TimeSpan.FromSeconds(30), ct);
                    var (exit, o, e) = await Cli.PggateProcess.RunAsync("switchover", cluster.Name, "-c", config, "--to", target);
                    output = o;
                    TestContext.Current.TestOutputHelper?.WriteLine(o + e);
                    Assert.True(exit == 0, o + e);
                }, expectNewLeader: true, Cancel);
            AssertSafe(results);
            var steps = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]).ToList();
            Assert.Equal(["leader", "pause", "switchover", "resume", "patroni", "done"], steps);
            Assert.Contains($"-> {results[0].NewLeader}", output, StringComparison.Ordinal);
            var pooled = results.Single(r => r.Stack == "pggate pool");
            Assert.True(pooled.FailedWrites == 0, $"pooled: {pooled.FailedWrites} failed writes");
        }
        finally
        {
            File.Delete(config);
        }
    }

    /// <summary>For every stack: no acknowledged write lost, none on a non-leader; pooled clients keep every connection.</summary>
    private static void AssertSafe(IReadOnlyList<FailoverResult> results)
    {
        foreach (var r in results)
        {
            Assert.True(r.AckedWrites >= FailoverScenario.RunOnWrites, $"{r.Stack}: too few writes to judge ({r.AckedWrites})");
            Assert.True(r.MissingAckedWrites == 0, $"{r.Stack}: {r.MissingAckedWrites} acknowledged writes missing on the new primary");
            Assert.True(r.WrongServerWrites == 0, $"{r.Stack}: {r.WrongServerWrites} writes acknowledged by a member that does not lead");
        }
        var pooled = results.Single(r => r.Stack == "pggate pool");
        Assert.True(pooled.DroppedConnections == 0, $"pooled clients lost {pooled.DroppedConnections} connections");
        Assert.True(pooled.DroppedIdleConnections == 0, $"pooled idle clients lost {pooled.DroppedIdleConnections} connections");
    }

    private static void AssertFast(IReadOnlyList<FailoverResult> results)
    {
        foreach (var r in results)
        {
            Assert.NotNull(r.PostgresPromotedToFirstWriteMs);
            Assert.True(r.PostgresPromotedToFirstWriteMs < RoutingBound.TotalMilliseconds,
                $"{r.Stack}: first write came {r.PostgresPromotedToFirstWriteMs:0} ms after the new leader's PostgreSQL was primary and its key was in etcd");
        }
    }

    private static async Task<string?> SyncStandbyAsync(PatroniCluster cluster)
    {
        using var client = cluster.CreateClient();
        var status = await client.GetClusterAsync(Cancel);
        return status.Members.FirstOrDefault(m => m.IsSyncStandby)?.Name;
    }
}
