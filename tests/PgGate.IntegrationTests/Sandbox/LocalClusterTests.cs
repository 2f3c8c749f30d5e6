using System.Diagnostics;
using System.Net;
using Npgsql;
using PgGate.Cluster;
using PgGate.IntegrationTests.Fixtures;
using PgGate.Sandbox;

namespace PgGate.IntegrationTests.Sandbox;

[Collection("cluster")]
public sealed class LocalClusterTests(ClusterFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private LocalCluster Cluster => fixture.Cluster;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => new(fixture.ResetAsync(Cancel));

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task Members_are_named_in_order_and_each_listens_on_its_own_host()
    {
        Assert.Equal(["pg-test-1", "pg-test-2", "pg-test-3"], Cluster.Members.Select(m => m.Name));
        for (var i = 0; i < Cluster.Members.Count; i++)
        {
            var member = Cluster.Members[i];
            Assert.Equal(fixture.Options.Hosts[i], member.Host);
            Assert.Equal(IPAddress.Parse(member.Host), await PgClient.ScalarAsync<IPAddress>(member, "select inet_server_addr()"));
            Assert.Equal(fixture.Options.Port, await PgClient.ScalarAsync<int>(member, "select inet_server_port()"));
            Assert.True(member.IsRunning);
            Assert.NotNull(member.Pid);
        }

        Assert.Equal([false, false, true], Cluster.Members.Select(m => m.IsOfflineQuery));
    }

    [Fact]
    public async Task Member_1_is_the_primary_and_the_others_are_streaming_replicas()
    {
        Assert.Same(Cluster.Members[0], Cluster.CurrentPrimary);
        Assert.False(await PgClient.ScalarAsync<bool>(Cluster.Members[0], "select pg_is_in_recovery()"));
        Assert.True(await PgClient.ScalarAsync<bool>(Cluster.Members[1], "select pg_is_in_recovery()"));
        Assert.True(await PgClient.ScalarAsync<bool>(Cluster.Members[2], "select pg_is_in_recovery()"));
        Assert.Equal(
            "pg-test-2|streaming|async\npg-test-3|streaming|async",
            await fixture.Primary.RunSqlAsync(
                "select application_name, state, sync_state from pg_stat_replication order by 1", Cancel));
        Assert.Equal([MemberRole.Primary, MemberRole.Replica, MemberRole.Replica], Cluster.Members.Select(m => m.Role));
    }

    [Fact]
    public async Task Pigsty_users_log_in_with_scram_and_have_their_privileges()
    {
        var primary = fixture.Primary;
        foreach (var user in LocalClusterUser.PigstyDefaults)
        {
            Assert.Equal(user.Name, await PgClient.ScalarAsync<string>(primary, "select current_user", user));
        }

        var roles = await primary.RunSqlAsync(
            """
            select rolname, rolsuper, rolreplication, pg_has_role(rolname, 'pg_monitor', 'member'),
                   rolpassword like 'SCRAM-SHA-256$%'
            from pg_authid where rolname in ('dbuser_dba', 'dbuser_monitor', 'test', 'dbuser_stats', 'replicator')
            order by rolname
            """,
            Cancel);
        Assert.Equal(
            "dbuser_dba|t|f|t|t\ndbuser_monitor|f|f|t|t\ndbuser_stats|f|f|f|t\nreplicator|f|t|f|t\ntest|f|f|f|t",
            roles);
        Assert.Equal("test", await primary.RunSqlAsync("select pg_get_userbyid(datdba) from pg_database where datname = 'test'", Cancel));

        var wrongPassword = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var connection = new NpgsqlConnection(primary.ConnectionString("test", "not-the-password", "test") + ";Pooling=false");
            await connection.OpenAsync(Cancel);
        });
        Assert.Equal(PostgresErrorCodes.InvalidPassword, wrongPassword.SqlState);
    }

    [Fact]
    public async Task A_row_written_on_the_primary_becomes_visible_on_every_replica()
    {
        await PgClient.ExecuteAsync(fixture.Primary, "create table visible_row (id int primary key, note text)", LocalClusterUser.Test);
        await PgClient.ExecuteAsync(fixture.Primary, "insert into visible_row values (1, 'written on the primary')", LocalClusterUser.Test);

        foreach (var replica in Cluster.Members.Skip(1))
        {
            await PgClient.WaitUntilAsync(
                async () => await PgClient.ScalarAsync<long>(replica, "select count(*) from visible_row where id = 1") == 1,
                Bound,
                $"the row to reach {replica.Name}");
        }

        await PgClient.ExecuteAsync(fixture.Primary, "drop table visible_row", LocalClusterUser.Test);
    }

    [Fact]
    public async Task A_replica_can_be_stopped_and_started_and_catches_up()
    {
        var replica = Cluster.Members[2];
        await replica.StopAsync(StopMode.Fast, Cancel);

        Assert.False(replica.IsRunning);
        Assert.Null(replica.Pid);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => PgClient.ScalarAsync<int>(replica, "select 1"));
        await PgClient.WaitUntilAsync(
            async () => await fixture.Primary.RunSqlAsync("select count(*) from pg_stat_replication where application_name = 'pg-test-3'", Cancel) == "0",
            Bound,
            "the primary to drop pg-test-3 from pg_stat_replication");

        await PgClient.ExecuteAsync(fixture.Primary, "create table while_down as select 42 as answer", LocalClusterUser.Test);
        await replica.StartAsync(Cancel);
        Assert.True(replica.IsRunning);
        await replica.WaitUntilStreamingAsync(Cancel);
        await PgClient.WaitUntilAsync(
            async () => await PgClient.ScalarAsync<long>(replica, "select count(*) from pg_class where relname = 'while_down'") == 1,
            Bound,
            "the table created while pg-test-3 was down to reach it");
        Assert.Equal(42, await PgClient.ScalarAsync<int>(replica, "select answer from while_down"));
        await PgClient.ExecuteAsync(fixture.Primary, "drop table while_down", LocalClusterUser.Test);
    }

    [Fact]
    public async Task After_the_primary_is_killed_member_2_is_promoted_and_member_1_rejoins_as_its_replica()
    {
        var (oldPrimary, newPrimary) = (Cluster.Members[0], Cluster.Members[1]);
        await PgClient.ExecuteAsync(oldPrimary, "create table before_crash as select 1 as id", LocalClusterUser.Test);
        await newPrimary.WaitUntilCaughtUpAsync(Cancel);
        Assert.Equal(1L, await PgClient.ScalarAsync<long>(newPrimary, "select count(*) from before_crash"));
        var oldPid = oldPrimary.Pid!.Value;

        oldPrimary.Kill();
        Assert.False(oldPrimary.IsRunning);
        Assert.Null(Cluster.CurrentPrimary);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => PgClient.ScalarAsync<int>(oldPrimary, "select 1"));

        var promote = Stopwatch.StartNew();
        await newPrimary.PromoteAsync(Cancel);
        promote.Stop();
        Assert.Same(newPrimary, Cluster.CurrentPrimary);
        Assert.Equal(MemberRole.Primary, newPrimary.Role);
        Assert.False(await PgClient.ScalarAsync<bool>(newPrimary, "select pg_is_in_recovery()"));
        await PgClient.ExecuteAsync(newPrimary, "insert into before_crash values (2)", LocalClusterUser.Test);

        var rejoin = Stopwatch.StartNew();
        var method = await oldPrimary.RejoinAsReplicaAsync(newPrimary, Cancel);
        rejoin.Stop();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"promote {promote.ElapsedMilliseconds} ms, rejoin by {method} {rejoin.ElapsedMilliseconds} ms");

        Assert.Equal(RejoinMethod.Rewind, method);
        Assert.True(oldPrimary.IsRunning);
        Assert.NotEqual(oldPid, oldPrimary.Pid);
        Assert.Equal(MemberRole.Replica, oldPrimary.Role);
        Assert.True(await PgClient.ScalarAsync<bool>(oldPrimary, "select pg_is_in_recovery()"));
        Assert.Equal(
            "pg-test-1|streaming",
            await newPrimary.RunSqlAsync("select application_name, state from pg_stat_replication order by 1", Cancel));
        await PgClient.WaitUntilAsync(
            async () => await PgClient.ScalarAsync<long>(oldPrimary, "select count(*) from before_crash") == 2,
            Bound,
            "the row written on the new primary to reach the rejoined member");
    }

    [Fact]
    public async Task A_member_whose_data_directory_is_lost_rejoins_by_cloning_again()
    {
        var replica = Cluster.Members[2];
        await replica.StopAsync(StopMode.Immediate, Cancel);
        Directory.Delete(replica.DataDirectory, recursive: true);
        await PgClient.ExecuteAsync(fixture.Primary, "create table after_loss as select 7 as n", LocalClusterUser.Test);

        var method = await replica.RejoinAsReplicaAsync(fixture.Primary, Cancel);

        Assert.Equal(RejoinMethod.Reclone, method);
        Assert.True(await PgClient.ScalarAsync<bool>(replica, "select pg_is_in_recovery()"));
        Assert.Equal(7, await PgClient.ScalarAsync<int>(replica, "select n from after_loss"));
        Assert.Equal(IPAddress.Parse(replica.Host), await PgClient.ScalarAsync<IPAddress>(replica, "select inet_server_addr()"));
        await PgClient.ExecuteAsync(fixture.Primary, "drop table after_loss", LocalClusterUser.Test);
    }

    [Fact]
    public async Task The_process_exit_cleanup_ends_every_server_and_removes_the_directory()
    {
        var cluster = await LocalCluster.StartAsync(fixture.SpareOptions(members: 2), TestContextLogger.Instance, Cancel);
        var pids = ProcFs.ProcessesUsing(cluster.BaseDirectory);
        Assert.NotEmpty(pids);

        // What runs when the process exits without disposing (Ctrl+C in `pggate demo`, SIGTERM of a test run).
        cluster.EmergencyCleanup();

        Assert.False(Directory.Exists(cluster.BaseDirectory));
        Assert.All(pids, pid => Assert.False(ProcFs.IsAlive(pid), $"PID {pid} is still alive"));
        Assert.True(cluster.IsDisposed);
        await cluster.DisposeAsync();
    }

    [Fact]
    public async Task Starting_a_second_cluster_on_addresses_in_use_fails_naming_the_pid_and_data_directory()
    {
        // Only this cluster's sandbox directories: test collections run in parallel, and others create and remove
        // directories under the same roots meanwhile (e.g. the pooling fixture's /tmp/pggate-pooler-test-*).
        var ours = SandboxDirectories.Prefix + fixture.Options.Name + "-";
        string[] Ours() => [.. SandboxDirectories.EnumerateAll().Where(d => Path.GetFileName(d).StartsWith(ours, StringComparison.Ordinal)).Order()];
        var before = Ours();

        var error = await Assert.ThrowsAsync<SandboxException>(() => LocalCluster.StartAsync(fixture.Options, cancellationToken: Cancel));

        var primary = fixture.Primary;
        Assert.Contains($"PID {primary.Pid}", error.Message, StringComparison.Ordinal);
        Assert.Contains(primary.DataDirectory, error.Message, StringComparison.Ordinal);
        Assert.Contains($"{primary.Host}:{primary.Port}", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, Ours());
        Assert.True(primary.IsRunning);
    }

    [Fact]
    public async Task Disposing_leaves_no_process_no_shared_memory_and_no_directory_behind()
    {
        var cluster = Cluster;

        // A crashed member is the hard case: its backends outlive it and its SysV segment is never released.
        cluster.Members[2].Kill();
        var segments = cluster.Members.Select(m => File.ReadAllLines(Path.Combine(m.DataDirectory, "postmaster.pid"))[6]).ToArray();
        var pids = ProcFs.ProcessesUsing(cluster.BaseDirectory);
        Assert.NotEmpty(pids);

        await cluster.DisposeAsync();

        Assert.False(Directory.Exists(cluster.BaseDirectory));
        Assert.Empty(ProcFs.ProcessesUsing(cluster.BaseDirectory));
        Assert.All(pids, pid => Assert.False(ProcFs.IsAlive(pid), $"PID {pid} is still alive"));
        var shm = File.ReadAllText("/proc/sysvipc/shm");
        foreach (var segment in segments)
        {
            var shmid = segment.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            Assert.DoesNotContain(
                shm.Split('\n').Skip(1),
                line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, var id, ..] && id == shmid);
        }

        foreach (var member in cluster.Members)
        {
            Assert.False(member.IsRunning);
            Assert.False(await AcceptsAsync(member));
        }
    }

    [Fact]
    public async Task A_sandbox_whose_owner_died_is_cleaned_up_by_the_next_start()
    {
        var leftover = await LocalCluster.StartAsync(fixture.SpareOptions(members: 2), TestContextLogger.Instance, Cancel);
        var leftoverPids = ProcFs.ProcessesUsing(leftover.BaseDirectory);

        // Pretend the process that built it was killed: its marker now names a process that has exited.
        File.WriteAllText(Path.Combine(leftover.BaseDirectory, SandboxOwner.FileName), $"{ExitedProcessId()} 1\n");

        await using var next = await LocalCluster.StartAsync(fixture.SpareOptions(members: 2), TestContextLogger.Instance, Cancel);

        Assert.False(Directory.Exists(leftover.BaseDirectory));
        Assert.All(leftoverPids, pid => Assert.False(ProcFs.IsAlive(pid), $"leftover PID {pid} is still alive"));
        Assert.False(await PgClient.ScalarAsync<bool>(next.Members[0], "select pg_is_in_recovery()"));
        Assert.Equal(next.Members[0].DataDirectory, await next.Members[0].RunSqlAsync("show data_directory", Cancel));
        await leftover.DisposeAsync();
    }

    [Fact]
    public async Task With_SynchronousStandby_the_first_replica_is_the_sync_standby()
    {
        // Also the path without the initdb template: initdb, then users and databases on the running primary.
        await using var cluster = await LocalCluster.StartAsync(
            fixture.SpareOptions(members: 3) with { SynchronousStandby = true, ReuseInitdbTemplate = false },
            TestContextLogger.Instance,
            Cancel);

        Assert.Equal(
            "pg-spare-2|sync\npg-spare-3|async",
            await cluster.Members[0].RunSqlAsync("select application_name, sync_state from pg_stat_replication order by 1", Cancel));
        Assert.Equal("on", await cluster.Members[0].RunSqlAsync("show synchronous_commit", Cancel));
        await PgClient.ExecuteAsync(cluster.Members[0], "create table committed_synchronously (id int)", LocalClusterUser.Test);
        Assert.Equal(
            "dbuser_monitor|t",
            await cluster.Members[2].RunSqlAsync("select rolname, pg_has_role(rolname, 'pg_monitor', 'member') from pg_roles where rolname = 'dbuser_monitor'", Cancel));
    }

    private static async Task<bool> AcceptsAsync(LocalMember member)
    {
        using var client = new System.Net.Sockets.TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Parse(member.Host), member.Port, Cancel);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static int ExitedProcessId()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }
}
