using Npgsql;
using PgGate.IntegrationTests.Fixtures;
using PgGate.Sandbox;

namespace PgGate.IntegrationTests.Services;

/// <summary>Pigsty's four default services, reached through every node with real clients, land on the right member.</summary>
[Collection("cluster")]
public sealed class ServiceRoutingTests(ClusterFixture fixture) : GateTest(fixture)
{

    [Fact]
    public async Task Primary_and_default_services_reach_the_primary_from_every_node()
    {
        for (var node = 0; node < 3; node++)
        {
            Assert.Equal((Host(0), false), await GateUnderTest.WhoAsync(Host(node), 5433));
            Assert.Equal((Host(0), false), await GateUnderTest.WhoAsync(Host(node), 5436, LocalClusterUser.Dba));
        }
    }

    [Fact]
    public async Task Replica_service_balances_over_the_replicas_and_never_the_primary_while_they_are_up()
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < 12; i++)
        {
            var (address, inRecovery) = await GateUnderTest.WhoAsync(Host(i % 3), 5434);
            Assert.True(inRecovery);
            seen.Add(address);
        }
        Assert.Equal([Host(1), Host(2)], seen.Order());
    }

    [Fact]
    public async Task Offline_service_reaches_the_offline_replica()
    {
        for (var node = 0; node < 3; node++)
            Assert.Equal((Host(2), true), await GateUnderTest.WhoAsync(Host(node), 5438, LocalClusterUser.Stats));
    }

    [Fact]
    public async Task Psql_reaches_every_service()
    {
        var node = Host(1);
        Assert.Equal($"{Host(0)}|f", await GateUnderTest.PsqlAsync(node, 5433, LocalClusterUser.Test, "select host(inet_server_addr()), pg_is_in_recovery()"));
        Assert.EndsWith("|t", await GateUnderTest.PsqlAsync(node, 5434, LocalClusterUser.Test, "select host(inet_server_addr()), pg_is_in_recovery()"));
        Assert.Equal($"{Host(0)}|f", await GateUnderTest.PsqlAsync(node, 5436, LocalClusterUser.Dba, "select host(inet_server_addr()), pg_is_in_recovery()"));
        Assert.Equal($"{Host(2)}|t", await GateUnderTest.PsqlAsync(node, 5438, LocalClusterUser.Stats, "select host(inet_server_addr()), pg_is_in_recovery()"));
    }

    [Fact]
    public async Task Writes_through_the_primary_service_are_read_back_through_the_replica_service()
    {
        await using (var rw = await GateUnderTest.OpenAsync(Host(2), 5433))
        {
            await using var create = new NpgsqlCommand("create table if not exists routing_probe(v text); insert into routing_probe values ('via-5433')", rw);
            await create.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }
        try
        {
            await PgClient.WaitUntilAsync(async () =>
            {
                await using var ro = await GateUnderTest.OpenAsync(Host(0), 5434);
                await using var read = new NpgsqlCommand("select count(*) from routing_probe where v = 'via-5433'", ro);
                return (long)(await read.ExecuteScalarAsync(TestContext.Current.CancellationToken))! == 1;
            }, TimeSpan.FromSeconds(10), "the row written on the primary to be read on a replica");
        }
        finally
        {
            await PgClient.ExecuteAsync(Cluster.Members[0], "drop table if exists routing_probe");
        }
    }

    [Fact]
    public async Task Status_json_and_metrics_show_the_services_and_members()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var json = await http.GetStringAsync($"http://{Host(0)}:9101/api/status", TestContext.Current.CancellationToken);
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var cluster = doc.RootElement.GetProperty("clusters")[0];
        Assert.Equal(Cluster.Members[0].Name, cluster.GetProperty("leader").GetString());
        Assert.Equal(4, cluster.GetProperty("services").GetArrayLength());
        Assert.Equal(3, cluster.GetProperty("members").GetArrayLength());

        var metrics = await http.GetStringAsync($"http://{Host(1)}:9101/metrics", TestContext.Current.CancellationToken);
        Assert.Contains($"pggate_member_leader{{node=\"{Cluster.Members[1].Name}\",cluster=\"{Cluster.Name}\",member=\"{Cluster.Members[0].Name}\"}} 1", metrics);
        Assert.Contains($"pggate_server_serving{{node=\"{Cluster.Members[1].Name}\",cluster=\"{Cluster.Name}\",service=\"primary\",server=\"{Cluster.Members[0].Name}\",backup=\"0\"}} 1", metrics);
        var page = await http.GetStringAsync($"http://{Host(2)}:9101/", TestContext.Current.CancellationToken);
        Assert.Contains("pg-test-primary", page);
    }
}
