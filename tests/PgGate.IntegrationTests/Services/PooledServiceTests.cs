using System.Diagnostics;
using System.Text.Json;
using Npgsql;
using PgGate.Cluster;
using PgGate.IntegrationTests.Fixtures;
using PgGate.Sandbox;

namespace PgGate.IntegrationTests.Services;

/// <summary>
/// Services with <c>dest: pool</c> and the node pooler, against the real cluster: routing by role through the pooler,
/// and failover that pooled clients do not notice between transactions.
/// </summary>
[Collection("cluster")]
public sealed class PooledServiceTests(ClusterFixture fixture) : GateTest(fixture)
{
    private static readonly TimeSpan FastPlanBound = TimeSpan.FromSeconds(15);
    private static readonly CheckSpec PrimaryCheck = new(CheckPath.Parse("/primary"), 3, 3);
    private static readonly CheckSpec ReadOnlyCheck = new(CheckPath.Parse("/read-only"), 3, 3);
    private readonly PooledGate _pooled = new();

    // The admin API's write endpoints need credentials here, as they should in production; reads stay open.
    protected override string Configuration() => _pooled.Yaml(Cluster, adminAuthentication: true);


    [Fact]
    public async Task Pooled_primary_and_replica_services_route_by_role_on_every_node()
    {
        for (var node = 0; node < 3; node++)
        {
            Assert.Equal((Host(0), false), await GateUnderTest.WhoAsync(Host(node), 5433));
            var (address, inRecovery) = await GateUnderTest.WhoAsync(Host(node), 5434);
            Assert.True(inRecovery);
            Assert.NotEqual(Host(0), address);
            Assert.Equal("f", await GateUnderTest.PsqlAsync(Host(node), 5433, LocalClusterUser.Test, "select pg_is_in_recovery()"));
            Assert.Equal("t", await GateUnderTest.PsqlAsync(Host(node), 5434, LocalClusterUser.Test, "select pg_is_in_recovery()"));
        }

        // Direct services stay byte relays.
        Assert.Equal((Host(0), false), await GateUnderTest.WhoAsync(Host(2), 5436, LocalClusterUser.Dba));
        var primary = Gate.Host.FindListener(Cluster.Members[1].Name, Cluster.Name, "primary")!;
        Assert.NotNull(primary.Pooler);
        Assert.Null(Gate.Host.FindListener(Cluster.Members[1].Name, Cluster.Name, "default")!.Pooler);
    }

    [Fact]
    public async Task Pools_show_in_the_status_json_the_metrics_and_the_status_page()
    {
        await using (var connection = await GateUnderTest.OpenAsync(Host(1), 5433))
        {
            Assert.Equal((Host(0), false), await GateUnderTest.WhoAsync(connection));
        }
        Assert.Equal((Host(1), true), await GateUnderTest.WhoAsync(Host(1), 6432));

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var status = JsonDocument.Parse(await http.GetStringAsync($"http://{Host(1)}:9101/api/status", TestContext.Current.CancellationToken));
        var pooler = Assert.Single(status.RootElement.GetProperty("poolers").EnumerateArray());
        Assert.Equal(Cluster.Members[1].Name, pooler.GetProperty("member").GetString());
        Assert.Equal($"{Host(1)}:6432", Assert.Single(pooler.GetProperty("listen").EnumerateArray()).GetString());
        var pools = pooler.GetProperty("pools").EnumerateArray().ToList();
        var primary = Assert.Single(pools, p => p.GetProperty("front_door").GetString() == "pg-test-primary");
        Assert.Equal(Cluster.Members[0].Name, primary.GetProperty("backend_name").GetString());
        Assert.Equal(("test", "test"), (primary.GetProperty("database").GetString(), primary.GetProperty("user").GetString()));
        Assert.True(primary.GetProperty("total_xact_count").GetInt64() >= 1);
        Assert.True(primary.GetProperty("sv_idle").GetInt32() + primary.GetProperty("sv_active").GetInt32() >= 1);
        var own = Assert.Single(pools, p => p.GetProperty("front_door").GetString() == "pooler");
        Assert.Equal(Cluster.Members[1].Name, own.GetProperty("backend_name").GetString());
        Assert.Contains(status.RootElement.GetProperty("clusters")[0].GetProperty("services").EnumerateArray(),
            s => s.GetProperty("service").GetString() == "primary" && s.GetProperty("pooled").GetBoolean());

        var metrics = await http.GetStringAsync($"http://{Host(1)}:9101/metrics", TestContext.Current.CancellationToken);
        Assert.Contains("# TYPE pggate_pool_transactions_total counter", metrics, StringComparison.Ordinal);
        Assert.Matches(
            $"pggate_pool_transactions_total\\{{node=\"{Cluster.Members[1].Name}\",front_door=\"pg-test-primary\",database=\"test\",user=\"test\",backend=\"{Cluster.Members[0].Name}\"\\}} [1-9]",
            metrics);
        Assert.Contains("pggate_pool_servers_idle{", metrics, StringComparison.Ordinal);
        Assert.Contains("pggate_pooler_logins_total{", metrics, StringComparison.Ordinal);

        var page = await http.GetStringAsync($"http://{Host(1)}:9101/", TestContext.Current.CancellationToken);
        Assert.Contains("<h2>pooler</h2>", page, StringComparison.Ordinal);
        Assert.Contains("<td>pg-test-primary</td><td>test</td><td>test</td>", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_admin_apis_write_endpoints_need_the_configured_credentials_and_its_reads_stay_open()
    {
        var ct = TestContext.Current.CancellationToken;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var resume = $"http://{Host(0)}:9101/api/clusters/{Cluster.Name}/resume";

        using (var anonymous = await http.PostAsync(resume, new StringContent("{}"), ct))
        {
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Equal("Basic", anonymous.Headers.WwwAuthenticate.Single().Scheme);
            using var error = JsonDocument.Parse(await anonymous.Content.ReadAsStringAsync(ct));
            Assert.Contains("admin.username", error.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        }
        foreach (var password in (string[])["wrong", PooledGate.AdminPassword + "x", ""])
        {
            using var wrong = new HttpRequestMessage(HttpMethod.Post, resume) { Content = new StringContent("{}") };
            wrong.Headers.Authorization = Basic(PooledGate.AdminUser, password);
            using var refused = await http.SendAsync(wrong, ct);
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using var right = new HttpRequestMessage(HttpMethod.Post, resume) { Content = new StringContent("{}") };
        right.Headers.Authorization = Basic(PooledGate.AdminUser, PooledGate.AdminPassword);
        using var accepted = await http.SendAsync(right, ct);
        Assert.Equal(System.Net.HttpStatusCode.OK, accepted.StatusCode);
        using var body = JsonDocument.Parse(await accepted.Content.ReadAsStringAsync(ct));
        Assert.False(body.RootElement.GetProperty("was_paused").GetBoolean());

        // The password file is read at each request: unreadable, every write is refused (401, not a server error).
        File.Move(_pooled.AdminPasswordFile, _pooled.AdminPasswordFile + ".moved");
        try
        {
            using var again = new HttpRequestMessage(HttpMethod.Post, resume) { Content = new StringContent("{}") };
            again.Headers.Authorization = Basic(PooledGate.AdminUser, PooledGate.AdminPassword);
            using var refused = await http.SendAsync(again, ct);
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        finally
        {
            File.Move(_pooled.AdminPasswordFile + ".moved", _pooled.AdminPasswordFile);
        }

        // Reads need nothing: Prometheus, the status page and checks keep working.
        foreach (var path in (string[])["/api/status", "/metrics", "/", "/health", $"/api/clusters/{Cluster.Name}/leader"])
        {
            using var read = await http.GetAsync($"http://{Host(0)}:9101{path}", ct);
            Assert.True(read.IsSuccessStatusCode, $"GET {path}: {(int)read.StatusCode}");
        }
    }

    private static System.Net.Http.Headers.AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(user + ":" + password)));

    [Fact]
    public async Task Pool_counters_keep_counting_when_a_member_leaves_the_service_and_comes_back()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await GateUnderTest.OpenAsync(Host(0), 5434);
        for (var i = 0; i < 20; i++)
            Assert.True((await GateUnderTest.WhoAsync(client)).InRecovery);
        var before = await ReplicaServiceTransactionsAsync(ct);
        Assert.True(before >= 20, $"{before} transactions counted");

        // Both replicas leave the replica service (their pools retire; the primary serves as backup), then come back:
        // their new pools replace the retired ones and must carry on from their counts, not restart at zero.
        var (r1, r2) = (Cluster.Members[1], Cluster.Members[2]);
        await r1.StopAsync(StopMode.Fast, ct);
        await r2.StopAsync(StopMode.Fast, ct);
        await Gate.Monitor.WaitForAsync(v => !v.IsUp(r1.Name, ReadOnlyCheck) && !v.IsUp(r2.Name, ReadOnlyCheck), FastPlanBound, ct);
        Assert.Equal((Host(0), false), await GateUnderTest.WhoAsync(client));
        await r1.StartAsync(ct);
        await r2.StartAsync(ct);
        await Gate.Monitor.WaitForAsync(v => v.IsUp(r1.Name, ReadOnlyCheck) && v.IsUp(r2.Name, ReadOnlyCheck), FastPlanBound, ct);
        for (var i = 0; i < 3; i++)
            Assert.True((await GateUnderTest.WhoAsync(client)).InRecovery);

        var after = await ReplicaServiceTransactionsAsync(ct);
        Assert.True(after >= before + 4, $"the replica service's pools counted {before} transactions, then {after} after 4 more");
    }

    /// <summary>total_xact_count summed over node 1's pools of the replica service, from the JSON status.</summary>
    private async Task<long> ReplicaServiceTransactionsAsync(CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var status = JsonDocument.Parse(await http.GetStringAsync($"http://{Host(0)}:9101/api/status", ct));
        return status.RootElement.GetProperty("poolers").EnumerateArray()
            .SelectMany(p => p.GetProperty("pools").EnumerateArray())
            .Where(p => p.GetProperty("front_door").GetString() == "pg-test-replica" && p.GetProperty("database").GetString() == "test")
            .Sum(p => p.GetProperty("total_xact_count").GetInt64());
    }

    [Fact]
    public async Task The_node_pooler_on_6432_reaches_the_nodes_own_postgres()
    {
        for (var node = 0; node < 3; node++)
        {
            var (address, inRecovery) = await GateUnderTest.WhoAsync(Host(node), 6432);
            Assert.Equal(Host(node), address);
            Assert.Equal(node != 0, inRecovery);
            Assert.Equal(Host(node), await GateUnderTest.PsqlAsync(Host(node), 6432, LocalClusterUser.Test, "select host(inet_server_addr())"));
        }
    }

    [Fact]
    public async Task A_client_idle_between_transactions_moves_to_the_new_primary_on_the_same_connection()
    {
        await using var connection = await GateUnderTest.OpenAsync(Host(1), 5433);
        Assert.Equal((Host(0), false), await GateUnderTest.WhoAsync(connection));
        var processId = connection.ProcessID;
        await Cluster.Members[1].WaitUntilCaughtUpAsync(TestContext.Current.CancellationToken);

        await Cluster.Members[0].StopAsync(StopMode.Immediate, TestContext.Current.CancellationToken);
        await Cluster.Members[1].PromoteAsync(TestContext.Current.CancellationToken);
        await Gate.Monitor.WaitForAsync(v => v.IsUp(Cluster.Members[1].Name, PrimaryCheck), FastPlanBound, TestContext.Current.CancellationToken);

        Assert.Equal((Host(1), false), await GateUnderTest.WhoAsync(connection));
        Assert.Equal(processId, connection.ProcessID);
        Assert.Equal(System.Data.ConnectionState.Open, connection.State);
    }

    [Fact]
    public async Task A_client_inside_a_transaction_gets_one_clean_error_and_its_connection_serves_the_next_transaction()
    {
        await Cluster.Members[0].RunSqlAsync("create table if not exists pooled_failover (id int)", "test", TestContext.Current.CancellationToken);
        await Cluster.Members[0].RunSqlAsync("grant all on pooled_failover to test", "test", TestContext.Current.CancellationToken);
        await using var connection = await GateUnderTest.OpenAsync(Host(2), 5433);
        var transaction = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await Execute(connection, "insert into pooled_failover values (1)");
        await Cluster.Members[1].WaitUntilCaughtUpAsync(TestContext.Current.CancellationToken);

        await Cluster.Members[0].StopAsync(StopMode.Fast, TestContext.Current.CancellationToken);
        await Cluster.Members[1].PromoteAsync(TestContext.Current.CancellationToken);

        var error = await Assert.ThrowsAsync<PostgresException>(() => Execute(connection, "insert into pooled_failover values (2)"));
        Assert.Contains(error.SqlState, (string[])["08006", "57P01"]);
        Assert.Contains("failover", error.MessageText, StringComparison.Ordinal);
        Assert.Contains("transaction was lost", error.MessageText, StringComparison.Ordinal);
        Assert.Equal("ERROR", error.Severity);
        await transaction.DisposeAsync();

        // The same connection: its next transaction runs on the new primary (waiting for it if need be).
        await using (var next = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken))
        {
            await Execute(connection, "insert into pooled_failover values (3)");
            await next.CommitAsync(TestContext.Current.CancellationToken);
        }

        Assert.Equal((Host(1), false), await GateUnderTest.WhoAsync(connection));
        // Row 1 went with the lost transaction; row 3 committed on the new primary.
        Assert.Equal("3", await Cluster.Members[1].RunSqlAsync("select id from pooled_failover order by id", "test", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_transaction_on_a_replica_that_leaves_the_replica_service_gets_one_clean_error_and_the_client_moves_on()
    {
        await using var connection = await GateUnderTest.OpenAsync(Host(0), 5434);
        var transaction = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken);
        for (var attempt = 0; (await GateUnderTest.WhoAsync(connection)).Address != Host(1); attempt++)
        {
            // Round-robin over the replicas: the next transaction lands on the other one.
            Assert.True(attempt < 4, "the replica service never chose pg-test-2");
            await transaction.CommitAsync(TestContext.Current.CancellationToken);
            transaction = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken);
        }

        // pg-test-2 is promoted: it stays up, but as a primary it is only a backup of the replica service now.
        await Cluster.Members[1].PromoteAsync(TestContext.Current.CancellationToken);
        var listener = Gate.Host.FindListener(Cluster.Members[0].Name, Cluster.Name, "replica")!;
        await PgClient.WaitUntilAsync(() => Task.FromResult(!listener.Router.Servers.IsUsable(listener.Router.Servers.Find(Cluster.Members[1].Name)!.State)),
            FastPlanBound, "pg-test-2 to leave the replica service");

        var error = await Assert.ThrowsAsync<PostgresException>(() => GateUnderTest.WhoAsync(connection));
        Assert.Equal("08006", error.SqlState);
        Assert.Contains("failover or switchover", error.MessageText, StringComparison.Ordinal);
        await transaction.DisposeAsync();
        Assert.Equal((Host(2), true), await GateUnderTest.WhoAsync(connection));
    }

    [Fact]
    public async Task Server_connections_to_the_new_leader_key_holder_open_during_its_promotion_and_serve_the_first_transaction()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var connection = await GateUnderTest.OpenAsync(Host(1), 5433);
        Assert.Equal((Host(0), false), await GateUnderTest.WhoAsync(connection));
        var candidate = Cluster.Members[1];
        await candidate.WaitUntilCaughtUpAsync(ct);

        await Cluster.Members[0].StopAsync(StopMode.Immediate, ct);
        // What the etcd watch reports when Patroni hands the leader key to pg-test-2, before it promotes it.
        Gate.Monitor.OnLeaderKey(new PgGate.Cluster.Dcs.LeaderKeyState
        {
            Key = $"/pg/{Cluster.Name}/leader",
            Leader = candidate.Name,
            IsCurrent = true,
            Revision = 2,
            Change = PgGate.Cluster.Dcs.LeaderKeyChange.Put,
            ObservedAt = DateTimeOffset.UtcNow,
        });
        var pooler = Gate.Host.Nodes.Single(n => n.Name == Cluster.Members[1].Name).Poolers.Single().Pooler;
        var waited = Stopwatch.StartNew();
        List<int> opened;
        while ((opened = OpenedTo(pooler, candidate.Host)).Count == 0)
        {
            Assert.True(waited.Elapsed < FastPlanBound, "no server connection to the key holder was opened");
            await Task.Delay(20, ct);
        }
        Assert.True(await PgClient.ScalarAsync<bool>(candidate, "select pg_is_in_recovery()"), "opened while the key holder is still a replica");
        Assert.False(Gate.Monitor.Current.IsUp(candidate.Name, PrimaryCheck), "no writes go to it before it is promoted");

        await candidate.PromoteAsync(ct);
        await using var command = new NpgsqlCommand(
            "select host(inet_server_addr()), pg_is_in_recovery(), pg_backend_pid(), current_setting('in_hot_standby')", connection);
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            Assert.True(await reader.ReadAsync(ct));
            Assert.Equal((Host(1), false, "off"), (reader.GetString(0), reader.GetBoolean(1), reader.GetString(3)));
            Assert.Contains(reader.GetInt32(2), opened);
        }
        // The client was never told the new primary is a hot standby, and new clients are not either.
        Assert.Equal("off", connection.PostgresParameters["in_hot_standby"]);
        await using var fresh = await GateUnderTest.OpenAsync(Host(1), 5433);
        Assert.Equal("off", fresh.PostgresParameters["in_hot_standby"]);
    }

    private static List<int> OpenedTo(PgGate.Pooling.Pooler pooler, string host) =>
        [.. pooler.GetServers()
            .Where(s => s.RemoteEndPoint is System.Net.IPEndPoint ip && ip.Address.ToString() == host && s.Database == "test")
            .Select(s => s.RemoteProcessId)];

    [Fact]
    public async Task New_transactions_wait_while_there_is_no_primary_and_run_on_the_promoted_one()
    {
        await using var connection = await GateUnderTest.OpenAsync(Host(0), 5433);
        Assert.Equal((Host(0), false), await GateUnderTest.WhoAsync(connection));
        await Cluster.Members[1].WaitUntilCaughtUpAsync(TestContext.Current.CancellationToken);

        await Cluster.Members[0].StopAsync(StopMode.Immediate, TestContext.Current.CancellationToken);
        var waited = Stopwatch.StartNew();
        var query = GateUnderTest.WhoAsync(connection);
        var psql = GateUnderTest.PsqlAsync(Host(2), 5433, LocalClusterUser.Test, "select host(inet_server_addr())");

        // Nothing can serve them until a replica is promoted: they wait rather than fail.
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        Assert.False(query.IsCompleted, query.Exception?.ToString());
        Assert.False(psql.IsCompleted, psql.Exception?.ToString());

        await Cluster.Members[1].PromoteAsync(TestContext.Current.CancellationToken);
        Assert.Equal((Host(1), false), await query);
        Assert.Equal(Host(1), await psql);
        TestContext.Current.SendDiagnosticMessage($"the waiting transaction ran {waited.ElapsedMilliseconds} ms after the primary stopped");
    }

    [Fact]
    public async Task A_switchover_with_a_promote_command_moves_pooled_writes_to_the_candidate_with_no_failed_transaction()
    {
        var ct = TestContext.Current.CancellationToken;
        var (old, candidate) = (Cluster.Members[0], Cluster.Members[1]);
        await using (var setup = await GateUnderTest.OpenAsync(Host(0), 5436, LocalClusterUser.Dba))
            await Execute(setup, "drop table if exists switchover_probe; create table switchover_probe (id bigint primary key); grant all on switchover_probe to public");
        var config = Path.Combine(_pooled.Directory.FullName, "pggate.yml");
        await File.WriteAllTextAsync(config, Configuration(), ct);

        // Writers through a node that is neither member, pooled, each on one connection for the whole test.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var acked = new System.Collections.Concurrent.ConcurrentQueue<(long Id, string Server)>();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        long nextId = 0;
        var writers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            await using var connection = await GateUnderTest.OpenAsync(Host(2), 5433);
            while (!stop.IsCancellationRequested)
            {
                var id = Interlocked.Increment(ref nextId);
                try
                {
                    await using var insert = new NpgsqlCommand("insert into switchover_probe values ($1) returning host(inet_server_addr())", connection);
                    insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
                    acked.Enqueue((id, (string)(await insert.ExecuteScalarAsync(CancellationToken.None))!));
                }
                catch (NpgsqlException e)
                {
                    failures.Enqueue(e.Message);
                }
                await Task.Delay(5, CancellationToken.None);
            }
            return connection.FullState;
        }, CancellationToken.None)).ToArray();
        await PgClient.WaitUntilAsync(() => Task.FromResult(acked.Count >= 50), TimeSpan.FromSeconds(15), "writes to flow before the switchover");

        // The user's command: stop the old primary, promote the candidate (as the postgres OS user when run by root).
        var asPostgres = Environment.UserName == "root" ? "runuser -u postgres -- " : "";
        var pgCtl = Cluster.Installation.PgCtl;
        var promote = $"echo \"$PGGATE_OLD_PRIMARY -> $PGGATE_CANDIDATE\" && {asPostgres}{pgCtl} stop -m fast -w -D {old.DataDirectory} >/dev/null && " +
            $"{asPostgres}{pgCtl} promote -w -D {candidate.DataDirectory} >/dev/null";
        var (code, stdout, stderr) = await Cli.PggateProcess.RunAsync("switchover", Cluster.Name, "-c", config, "--to", candidate.Name, "--promote-command", promote);
        TestContext.Current.TestOutputHelper?.WriteLine(stdout + stderr);
        Assert.True(code == 0, stdout + stderr);
        Assert.Equal(["leader", "pause", "catch-up", "promote", "leader", "resume", "done"],
            stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]));
        Assert.Contains($"{old.Name} -> {candidate.Name}", stdout, StringComparison.Ordinal);

        var switched = acked.Count;
        await PgClient.WaitUntilAsync(() => Task.FromResult(acked.Count >= switched + 50), TimeSpan.FromSeconds(15), "writes to flow after the switchover");
        await stop.CancelAsync();
        var states = await Task.WhenAll(writers);

        Assert.True(failures.IsEmpty, $"{failures.Count} failed writes, e.g. {failures.FirstOrDefault()}");
        Assert.All(states, s => Assert.Equal(System.Data.ConnectionState.Open, s));
        Assert.All(acked.Skip(switched), a => Assert.Equal(candidate.Host, a.Server));
        await using var check = await GateUnderTest.OpenAsync(candidate.Host, 5436, LocalClusterUser.Dba);
        await using var count = new NpgsqlCommand("select count(*) from switchover_probe", check);
        Assert.Equal((long)acked.Count, (long)(await count.ExecuteScalarAsync(ct))!);
        await Execute(check, "drop table switchover_probe");

        // Tell the sandbox what the command did, so the next test's reset rebuilds the cluster.
        await candidate.PromoteAsync(ct);
    }

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _pooled.Dispose();
    }
}
