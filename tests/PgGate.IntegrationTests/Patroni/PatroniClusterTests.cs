using System.Diagnostics;
using System.Net;
using Npgsql;
using PgGate.Sandbox;
using PgGate.Sandbox.Patroni;

namespace PgGate.IntegrationTests.Patroni;

/// <summary>The Patroni sandbox itself: what it builds, and that each failure it offers has the effect it promises.</summary>
[Collection("patroni")]
public sealed class PatroniClusterTests(PatroniFixture fixture) : IAsyncLifetime
{
    private PatroniCluster _cluster = null!;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _cluster = await fixture.ResetAsync(Cancel);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task Leader_holds_the_key_and_the_other_members_stream_from_it()
    {
        var leaderName = await _cluster.LeaderAsync(Cancel);
        Assert.NotNull(leaderName);
        Assert.Equal("/pg/pg-test/leader", _cluster.LeaderKey);
        var leader = _cluster.Member(leaderName);
        Assert.Equal(HttpStatusCode.OK, await _cluster.CheckAsync(leader, "/primary", Cancel));
        Assert.Equal("f", await leader.RunSqlAsync("select pg_is_in_recovery()", cancellationToken: Cancel));
        var replicas = _cluster.Members.Where(m => m != leader).Select(m => m.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(
            string.Join('\n', replicas.Select(r => r + "|streaming")),
            await leader.RunSqlAsync("select application_name, state from pg_stat_replication order by 1", cancellationToken: Cancel));
        foreach (var member in _cluster.Members)
        {
            Assert.Equal(IPAddress.Parse(member.Host), await ScalarAsync<IPAddress>(member, "select inet_server_addr()"));
            if (member != leader)
                Assert.True(await ScalarAsync<bool>(member, "select pg_is_in_recovery()"));
        }
    }

    [Fact]
    public async Task Pigsty_users_and_database_exist_and_Patroni_runs_as_the_postgres_user()
    {
        var leader = _cluster.Member((await _cluster.LeaderAsync(Cancel))!);
        foreach (var user in LocalClusterUser.PigstyDefaults)
            Assert.Equal(user.Name, await ScalarAsync<string>(leader, "select current_user", user, user.Replication ? "postgres" : "test"));
        Assert.True(await ScalarAsync<bool>(leader, "select pg_has_role('dbuser_monitor', 'pg_monitor', 'member')"));
        Assert.Equal("test", await leader.RunSqlAsync("select pg_get_userbyid(datdba) from pg_database where datname = 'test'", cancellationToken: Cancel));

        foreach (var member in _cluster.Members)
        {
            var uid = File.ReadAllLines($"/proc/{member.PatroniPid}/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal));
            var postgresUid = File.ReadAllLines($"/proc/{member.PostmasterPid}/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal));
            Assert.Equal(postgresUid, uid);
            if (_cluster.OsUser.SwitchesUser)
                Assert.DoesNotContain("\t0\t", uid, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Dynamic_configuration_in_etcd_carries_the_rto_plan_and_failsafe_mode()
    {
        var config = await _cluster.Etcd.EtcdctlAsync(["get", "--print-value-only", "/pg/pg-test/config"], Cancel);
        using var document = System.Text.Json.JsonDocument.Parse(config);
        var root = document.RootElement;
        Assert.Equal(_cluster.Options.Timers.Ttl, root.GetProperty("ttl").GetInt32());
        Assert.Equal(_cluster.Options.Timers.LoopWait, root.GetProperty("loop_wait").GetInt32());
        Assert.Equal(_cluster.Options.Timers.RetryTimeout, root.GetProperty("retry_timeout").GetInt32());
        Assert.Equal(_cluster.Options.Timers.PrimaryStartTimeout, root.GetProperty("primary_start_timeout").GetInt32());
        Assert.True(root.GetProperty("failsafe_mode").GetBoolean());
        Assert.False(root.GetProperty("synchronous_mode").GetBoolean());
        Assert.Equal(1048576, root.GetProperty("maximum_lag_on_failover").GetInt64());
        var members = await _cluster.Etcd.EtcdctlAsync(["get", "--prefix", "--keys-only", "/pg/pg-test/members/"], Cancel);
        Assert.Equal(
            _cluster.Members.Select(m => "/pg/pg-test/members/" + m.Name),
            members.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task KillPostgres_crashes_the_leaders_postmaster_and_Patroni_restarts_it_keeping_the_key()
    {
        var leader = _cluster.Member((await _cluster.LeaderAsync(Cancel))!);
        var patroniPid = leader.PatroniPid;
        var stopwatch = Stopwatch.StartNew();
        var killed = await _cluster.KillPostgresAsync(leader);

        Assert.Null(leader.PostmasterPid);
        Assert.Equal(patroniPid, leader.PatroniPid);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await _cluster.CheckAsync(leader, "/health", Cancel));

        // Patroni notices on its next loop and starts PostgreSQL again; back within primary_start_timeout, it keeps the key.
        await WaitUntilAsync(async () => leader.PostmasterPid is int pid && pid != killed
            && await _cluster.CheckAsync(leader, "/primary", Cancel) == HttpStatusCode.OK, TimeSpan.FromSeconds(60), "Patroni to restart PostgreSQL");
        var back = stopwatch.Elapsed;
        Assert.Equal(leader.Name, await _cluster.LeaderAsync(Cancel));
        Assert.Equal(patroniPid, leader.PatroniPid);
        await _cluster.WaitUntilHealthyAsync(cancellationToken: Cancel);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"kill -9 of {leader.Name}'s postmaster (PID {killed}): Patroni had it primary again after {back.TotalMilliseconds:0} ms " +
            $"(loop_wait {_cluster.Options.Timers.LoopWait} s), same leader");
    }

    [Fact]
    public async Task StopPatroni_on_the_leader_stops_postgres_and_releases_the_key_and_StartMember_brings_it_back_as_a_replica()
    {
        var leader = _cluster.Member((await _cluster.LeaderAsync(Cancel))!);
        var stopwatch = Stopwatch.StartNew();
        await _cluster.StopPatroniAsync(leader, Cancel);
        var stopped = stopwatch.Elapsed;

        Assert.False(leader.IsPatroniRunning);
        Assert.False(leader.IsPostgresRunning);
        Assert.Null(await _cluster.CheckAsync(leader, "/health", Cancel));

        // The key was released, not left to expire: a replica takes it well before ttl.
        var next = await _cluster.WaitForLeaderAsync(l => l is not null && l != leader.Name, TimeSpan.FromSeconds(_cluster.Options.Timers.Ttl), Cancel);
        var promoted = stopwatch.Elapsed;
        Assert.NotEqual(leader.Name, next);

        await _cluster.StartMemberAsync(leader, Cancel);
        Assert.Equal(next, await _cluster.WaitUntilHealthyAsync(cancellationToken: Cancel));
        Assert.Equal("t", await leader.RunSqlAsync("select pg_is_in_recovery()", cancellationToken: Cancel));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"SIGTERM to {leader.Name}'s Patroni: stopped in {stopped.TotalMilliseconds:0} ms, {next} held the key after " +
            $"{promoted.TotalMilliseconds:0} ms, {leader.Name} streaming again after {stopwatch.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task KillNode_on_the_leader_leaves_its_key_until_ttl_expires_then_a_replica_takes_over()
    {
        var leader = _cluster.Member((await _cluster.LeaderAsync(Cancel))!);
        var stopwatch = Stopwatch.StartNew();
        await _cluster.KillNodeAsync(leader);

        Assert.False(leader.IsPatroniRunning);
        Assert.False(leader.IsPostgresRunning);
        Assert.Empty(ProcFsProcessesUsing(leader.MemberDirectory));

        // Nobody released the key: it still names the dead leader (its lease runs for ttl seconds after the last refresh).
        Assert.Equal(leader.Name, await _cluster.LeaderAsync(Cancel));
        var ttl = TimeSpan.FromSeconds(_cluster.Options.Timers.Ttl);
        var next = await _cluster.WaitForLeaderAsync(l => l != leader.Name, ttl + TimeSpan.FromSeconds(15), Cancel);
        var vacated = stopwatch.Elapsed;
        if (next is null)
            next = await _cluster.WaitForLeaderAsync(l => l is not null, TimeSpan.FromSeconds(30), Cancel);
        var promoted = stopwatch.Elapsed;
        Assert.NotEqual(leader.Name, next);

        // At least ttl minus one loop_wait passed (the lease was refreshed at most loop_wait before the kill).
        Assert.True(vacated >= ttl - TimeSpan.FromSeconds(_cluster.Options.Timers.LoopWait + 1), $"the key moved after only {vacated}");

        await _cluster.StartMemberAsync(leader, Cancel);
        Assert.Equal(next, await _cluster.WaitUntilHealthyAsync(cancellationToken: Cancel));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"SIGKILL of node {leader.Name} (ttl {ttl.TotalSeconds:0} s): key left it after {vacated.TotalMilliseconds:0} ms, {next} leader after " +
            $"{promoted.TotalMilliseconds:0} ms, {leader.Name} rejoined as a streaming replica after {stopwatch.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task SwitchoverAsync_moves_the_leader_to_the_chosen_member()
    {
        var leader = (await _cluster.LeaderAsync(Cancel))!;
        var target = _cluster.Members.First(m => m.Name != leader);
        var stopwatch = Stopwatch.StartNew();
        Assert.Equal(target.Name, await _cluster.SwitchoverAsync(target.Name, Cancel));
        Assert.Equal(HttpStatusCode.OK, await _cluster.CheckAsync(target, "/primary", Cancel));
        Assert.Equal(target.Name, await _cluster.WaitUntilHealthyAsync(cancellationToken: Cancel));
        Assert.Equal("t", await _cluster.Member(leader).RunSqlAsync("select pg_is_in_recovery()", cancellationToken: Cancel));
        TestContext.Current.TestOutputHelper?.WriteLine($"switchover {leader} -> {target.Name}: whole again after {stopwatch.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task Started_with_synchronous_mode_the_cluster_has_a_sync_standby_from_the_start()
    {
        _cluster = await fixture.RebuildAsync(fixture.Options with { SynchronousMode = true }, Cancel);
        var config = await _cluster.Etcd.EtcdctlAsync(["get", "--print-value-only", "/pg/pg-test/config"], Cancel);
        using (var document = System.Text.Json.JsonDocument.Parse(config))
            Assert.True(document.RootElement.GetProperty("synchronous_mode").GetBoolean());

        using var client = _cluster.CreateClient();
        await WaitUntilAsync(async () => (await client.GetClusterAsync(Cancel)).Members.Any(m => m.IsSyncStandby), TimeSpan.FromSeconds(60),
            "Patroni to name a synchronous standby");
        var status = await client.GetClusterAsync(Cancel);
        var leader = _cluster.Member(status.Leader!.Name);
        var sync = status.Members.Single(m => m.IsSyncStandby).Name;
        Assert.Equal(
            $"{sync}|sync",
            await leader.RunSqlAsync("select application_name, sync_state from pg_stat_replication where sync_state <> 'async'", cancellationToken: Cancel));
        Assert.Equal("on", await leader.RunSqlAsync("show synchronous_commit", cancellationToken: Cancel));
        Assert.Equal("crit.yml", leader.Tags["conf"]);
    }

    private static List<int> ProcFsProcessesUsing(string directory)
    {
        var found = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid))
                continue;
            try
            {
                var cwd = new DirectoryInfo(Path.Combine(entry, "cwd")).LinkTarget;
                var state = File.ReadAllText(Path.Combine(entry, "stat")).Split(") ")[1][0];
                if (cwd is not null && cwd.StartsWith(directory, StringComparison.Ordinal) && state != 'Z')
                    found.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return found;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (stopwatch.Elapsed > timeout)
                Assert.Fail($"Timed out after {timeout.TotalSeconds:0} s waiting for {what}.");
            await Task.Delay(50, Cancel);
        }
    }

    private static async Task<T> ScalarAsync<T>(PatroniMember member, string sql, LocalClusterUser? user = null, string database = "test")
    {
        var connectionString = new NpgsqlConnectionStringBuilder(member.ConnectionString(user ?? LocalClusterUser.Dba, database))
        {
            Pooling = false,
            Timeout = 5,
        }.ConnectionString;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(Cancel))!;
    }
}
