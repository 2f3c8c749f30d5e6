using System.Text.Json;
using PgGate.IntegrationTests.Fixtures;
using PgGate.IntegrationTests.Services;
using PgGate.Sandbox;

namespace PgGate.IntegrationTests.Cli;

/// <summary>
/// The issue's acceptance scenario: a Pigsty inventory with the default services, one `pggate run` per
/// node, and psql on each node's 5433/5434/5436/5438 reaching the right member; check-config shows the
/// same mapping.
/// </summary>
[Collection("cluster")]
public sealed class PigstyInventoryRunTests(ClusterFixture fixture) : IAsyncLifetime
{
    private string _inventory = "";
    private LocalCluster Cluster => fixture.Cluster;
    private string Host(int i) => Cluster.Members[i].Host;

    public async ValueTask InitializeAsync()
    {
        await fixture.ResetAsync(TestContext.Current.CancellationToken);
        _inventory = Path.Combine(Path.GetTempPath(), $"pggate-inventory-{Guid.NewGuid():N}.yml");
        // Pigsty's documented inventory shape; dest postgres and pgbouncer_enabled false because this sandbox has no
        // /etc/pgbouncer files for PgGate's pooler (PgBouncer's place), and the sql health source because it has no Patroni on 8008.
        await File.WriteAllTextAsync(_inventory, $$"""
            all:
              children:
                infra: { hosts: { 127.0.0.1: { infra_seq: 1 } } }
                pg-test:
                  hosts:
                    {{Host(0)}}: { pg_seq: 1, pg_role: primary }
                    {{Host(1)}}: { pg_seq: 2, pg_role: replica }
                    {{Host(2)}}: { pg_seq: 3, pg_role: replica, pg_offline_query: true }
                  vars:
                    pg_cluster: pg-test
                    pg_default_service_dest: postgres
                    pgbouncer_enabled: false
                    pggate_health_source: sql
                    pg_rto: fast
              vars:
                version: v4.5.0
                admin_ip: 127.0.0.1
                pg_monitor_username: dbuser_monitor
                pg_monitor_password: DBUser.Monitor
            """, TestContext.Current.CancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        File.Delete(_inventory);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task A_pggate_run_per_node_serves_every_default_service_from_the_inventory()
    {
        var nodes = new List<PggateProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
                nodes.Add(PggateProcess.Start("run", "--inventory", _inventory, "--node", Host(i), "--bind", Host(i)));
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            for (var i = 0; i < 3; i++)
            {
                var node = Host(i);
                await PgClient.WaitUntilAsync(async () =>
                {
                    Assert.False(nodes[i].HasExited, "pggate exited: " + nodes[i].Output);
                    try
                    {
                        using var doc = JsonDocument.Parse(await http.GetStringAsync($"http://{node}:9101/api/status", TestContext.Current.CancellationToken));
                        return doc.RootElement.GetProperty("clusters")[0].GetProperty("leader").GetString() == "pg-test-1";
                    }
                    catch (HttpRequestException)
                    {
                        return false;
                    }
                }, TimeSpan.FromSeconds(30), $"pggate on {node} to see the leader");
            }

            for (var i = 0; i < 3; i++)
            {
                var node = Host(i);
                const string who = "select host(inet_server_addr()) || ' ' || pg_is_in_recovery()";
                Assert.Equal($"{Host(0)} false", await GateUnderTest.PsqlAsync(node, 5433, LocalClusterUser.Test, who));
                Assert.EndsWith(" true", await GateUnderTest.PsqlAsync(node, 5434, LocalClusterUser.Test, who));
                Assert.DoesNotContain(Host(0), await GateUnderTest.PsqlAsync(node, 5434, LocalClusterUser.Test, who));
                Assert.Equal($"{Host(0)} false", await GateUnderTest.PsqlAsync(node, 5436, LocalClusterUser.Dba, who));
                Assert.Equal($"{Host(2)} true", await GateUnderTest.PsqlAsync(node, 5438, LocalClusterUser.Stats, who));
            }
        }
        finally
        {
            foreach (var n in nodes)
                await n.DisposeAsync();
        }
    }

    [Fact]
    public async Task Check_config_shows_the_same_mapping()
    {
        var (code, stdout, stderr) = await PggateProcess.RunAsync("check-config", "--inventory", _inventory, "--node", Host(1));
        Assert.True(code == 0, stderr);
        // Pigsty's server lines: replica service with the primary as backup, offline with the offline replica first.
        Assert.Contains($"server pg-test-1 {Host(0)}:5432", stdout);
        Assert.Matches($@"(?s)pg-test-replica.*server pg-test-1 {Host(0).Replace(".", @"\.")}:5432 .*backup", stdout);
        Assert.Matches($@"(?s)pg-test-offline.*server pg-test-3 {Host(2).Replace(".", @"\.")}:5432.*server pg-test-2 {Host(1).Replace(".", @"\.")}:5432 .*backup", stdout);
    }

    [Fact]
    public async Task A_broken_inventory_fails_with_file_line_and_key()
    {
        await File.WriteAllTextAsync(_inventory, """
            all:
              children:
                pg-test:
                  hosts:
                    10.10.10.11: { pg_seq: 1, pg_role: primary }
                    10.10.10.12: { pg_seq: 2, pg_role: leader }
                  vars: { pg_cluster: pg-test }
            """, TestContext.Current.CancellationToken);
        var (code, _, stderr) = await PggateProcess.RunAsync("check-config", "--inventory", _inventory);
        Assert.Equal(2, code);
        var line = stderr.Trim();
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("pggate: ", line);
        Assert.Contains(Path.GetFileName(_inventory) + ":6:", line);
        Assert.Contains("pg_role", line);
    }
}
