using System.Globalization;
using Npgsql;
using PgGate.Pooling;
using PgGate.Pooling.Ini;
using static PgGate.IntegrationTests.Pooling.ConsoleClient;

namespace PgGate.IntegrationTests.Pooling;

/// <summary>The admin console (database pgbouncer) with psql and Npgsql: PgBouncer 1.18's columns, numbers that follow the
/// traffic, PAUSE/RESUME, KILL, DISABLE/ENABLE, SET, RELOAD of an edited pgbouncer.ini, and who may do what.</summary>
[Collection(PoolingCollection.Name)]
public sealed class ConsoleTests(PoolingFixture fixture)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private Task<PoolerUnderTest> StartAsync(Func<PoolerSettings, PoolerSettings>? configure = null) =>
        fixture.StartPoolerAsync(s =>
        {
            s = s with { AdminUsers = [AdminUser.Name], StatsUsers = [StatsUser.Name], PoolMode = PoolMode.Transaction };
            return configure?.Invoke(s) ?? s;
        }, userList: UserList);

    public static TheoryData<string, string> Headers => new()
    {
        { "SHOW POOLS", "database|user|cl_active|cl_waiting|cl_active_cancel_req|cl_waiting_cancel_req|sv_active|sv_active_cancel|sv_being_canceled|sv_idle|sv_used|sv_tested|sv_login|maxwait|maxwait_us|pool_mode" },
        { "SHOW CLIENTS", "type|user|database|state|addr|port|local_addr|local_port|connect_time|request_time|wait|wait_us|close_needed|ptr|link|remote_pid|tls|application_name" },
        { "SHOW SERVERS", "type|user|database|state|addr|port|local_addr|local_port|connect_time|request_time|wait|wait_us|close_needed|ptr|link|remote_pid|tls|application_name" },
        { "SHOW STATS", "database|total_xact_count|total_query_count|total_received|total_sent|total_xact_time|total_query_time|total_wait_time|avg_xact_count|avg_query_count|avg_recv|avg_sent|avg_xact_time|avg_query_time|avg_wait_time" },
        { "SHOW STATS_TOTALS", "database|xact_count|query_count|bytes_received|bytes_sent|xact_time|query_time|wait_time" },
        { "SHOW STATS_AVERAGES", "database|xact_count|query_count|bytes_received|bytes_sent|xact_time|query_time|wait_time" },
        { "SHOW DATABASES", "name|host|port|database|force_user|pool_size|min_pool_size|reserve_pool|pool_mode|max_connections|current_connections|paused|disabled" },
        { "SHOW USERS", "name|pool_mode" },
        { "SHOW LISTS", "list|items" },
        { "SHOW CONFIG", "key|value|default|changeable" },
        { "SHOW VERSION", "version" },
        { "show mem;", "name|size|used|free|memtotal" },
    };

    [Theory]
    [MemberData(nameof(Headers))]
    public async Task Show_commands_answer_with_PgBouncer_1_18_columns(string command, string header)
    {
        await using var pooler = await StartAsync();
        await using var client = await pooler.OpenAsync();
        Assert.Equal(1, await ScalarAsync(client, "select 1"));

        var (code, output, error) = await PsqlAsync(pooler, StatsUser, command);

        Assert.True(code == 0, error);
        Assert.Equal(header, output.Split('\n')[0]);
    }

    [Fact]
    public async Task Show_pools_counts_the_clients_and_servers_of_a_busy_pool()
    {
        await using var pooler = await StartAsync();
        await using var client = await pooler.OpenAsync();
        await using var transaction = await client.BeginTransactionAsync(Cancel);
        Assert.Equal(1, await ScalarAsync(client, "select 1"));

        var (code, output, error) = await PsqlAsync(pooler, StatsUser, "SHOW POOLS");

        Assert.True(code == 0, error);
        var row = Row(output, "test|test|");
        Assert.Equal("test|test|1|0|0|0|1|0|0|0|0|0|0|0|0|transaction", row);
    }

    [Fact]
    public async Task Show_stats_totals_move_after_queries_and_averages_follow_stats_period()
    {
        await using var pooler = await StartAsync(s => s with { StatsPeriod = TimeSpan.FromSeconds(1) });
        await using var client = await pooler.OpenAsync();
        await using var console = await OpenAsync(pooler, StatsUser);
        Assert.Equal(1, await ScalarAsync(client, "select 1"));
        var before = await StatsRowAsync(console);

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(i, await ScalarAsync(client, $"select {i}"));
        }

        var after = await StatsRowAsync(console);
        Assert.True((decimal)after["total_query_count"]! - (decimal)before["total_query_count"]! >= 10);
        Assert.True((decimal)after["total_xact_count"]! - (decimal)before["total_xact_count"]! >= 10);
        Assert.True((decimal)after["total_received"]! > (decimal)before["total_received"]!);
        Assert.True((decimal)after["total_sent"]! > (decimal)before["total_sent"]!);
        Assert.True((decimal)after["total_query_time"]! > (decimal)before["total_query_time"]!);

        // Averages are per completed stats_period: keep queries flowing until one period has seen them.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        var traffic = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await ScalarAsync(client, "select 1");
            }
        }, Cancel);
        var deadline = DateTime.UtcNow + Bound;
        decimal average;
        do
        {
            average = (decimal)(await StatsRowAsync(console))["avg_query_count"]!;
        }
        while (average <= 0 && DateTime.UtcNow < deadline && await Delay());

        await stop.CancelAsync();
        await traffic;
        Assert.True(average > 0, "avg_query_count stayed 0 although queries ran for several stats periods");
    }

    [Fact]
    public async Task Pause_holds_new_transactions_until_resume()
    {
        await using var pooler = await StartAsync();
        await using var client = await pooler.OpenAsync();
        Assert.Equal(1, await ScalarAsync(client, "select 1"));

        Assert.Equal("PAUSE", await AdminAsync(pooler, "PAUSE"));

        var held = ScalarAsync(client, "select 2");
        await WaitUntilAsync(() => pooler.Pooler.GetPools().Sum(p => p.ClientsWaiting) == 1, "the client to wait for a server");
        Assert.False(held.IsCompleted);
        Assert.EndsWith("|1|0", Row((await PsqlAsync(pooler, StatsUser, "SHOW DATABASES")).Output, "test|"), StringComparison.Ordinal);

        await AdminAsync(pooler, "RESUME");
        Assert.Equal(2, await held.WaitAsync(Bound, Cancel));
    }

    [Fact]
    public async Task A_scoped_pause_holds_only_the_pools_it_covers_and_outlives_nothing_but_its_own_resume()
    {
        // What a switchover of one cluster does on a pooler that other clusters' services share (PoolerPauseParticipant).
        await using var pooler = await StartAsync();
        await using var covered = await pooler.OpenAsync();
        await using var other = await pooler.OpenAsync(AdminUser.Name, AdminUser.Password);
        Assert.Equal(1, await ScalarAsync(covered, "select 1"));
        Assert.Equal(1, await ScalarAsync(other, "select 1"));

        var scope = new PoolPauseScope(key => key.User == "test");
        await pooler.Pooler.PauseAsync(scope, Cancel);
        // Whatever fails below, nothing stays paused: Npgsql cannot close a connection whose command still waits.
        using var release = new ResumeOnDispose(pooler.Pooler, scope);
        var held = ScalarAsync(covered, "select 2");
        Assert.Equal(3, await ScalarAsync(other, "select 3"));
        // A pool the scope covers that is created during the pause waits too: its first login needs a server.
        var opening = pooler.OpenAsync(database: "postgres");
        await WaitUntilAsync(() => pooler.Pooler.GetPools().Sum(p => p.ClientsWaiting) == 1, "the covered client to wait");
        Assert.False(opening.IsCompleted, "a login to a new pool in the paused scope goes on");
        Assert.False(pooler.Pooler.IsAnyPaused, "the console's PAUSE state is not involved");

        // A console PAUSE on top: ending the scoped pause does not release what PAUSE still holds.
        await AdminAsync(pooler, "PAUSE");
        pooler.Pooler.Resume(scope);
        Assert.False(held.IsCompleted);
        await AdminAsync(pooler, "RESUME");
        Assert.Equal(2, await held.WaitAsync(Bound, Cancel));
        await using var newPool = await opening.WaitAsync(Bound, Cancel);
        Assert.Equal(4, await ScalarAsync(newPool, "select 4"));
    }

    [Fact]
    public async Task Kill_drops_the_clients_of_the_database_and_resume_lets_new_ones_in()
    {
        await using var pooler = await StartAsync();
        await using var victim = await pooler.OpenAsync();
        Assert.Equal(1, await ScalarAsync(victim, "select 1"));

        await AdminAsync(pooler, "KILL test");

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => ScalarAsync(victim, "select 1"));
        await WaitUntilAsync(() => pooler.Pooler.GetClients().All(c => c.Database != "test"), "the killed client to be gone");
        await WaitUntilAsync(() => pooler.Pooler.GetServers().Count == 0, "the killed database's servers to close");

        await AdminAsync(pooler, "RESUME test");
        await using var next = await pooler.OpenAsync();
        Assert.Equal(3, await ScalarAsync(next, "select 3"));
    }

    [Fact]
    public async Task Disable_refuses_new_clients_of_the_database_keeps_connected_ones_and_enable_lets_them_in()
    {
        await using var pooler = await StartAsync();
        await using var connected = await pooler.OpenAsync();
        Assert.Equal(1, await ScalarAsync(connected, "select 1"));

        Assert.Equal("DISABLE", await AdminAsync(pooler, "DISABLE test"));
        Assert.EndsWith("|0|1", Row((await PsqlAsync(pooler, StatsUser, "SHOW DATABASES")).Output, "test|"), StringComparison.Ordinal);

        var refused = await Assert.ThrowsAsync<PostgresException>(async () => await pooler.OpenAsync());
        Assert.Equal("55000", refused.SqlState);
        Assert.Equal("database does not allow connections: test", refused.MessageText);
        Assert.Equal(2, await ScalarAsync(connected, "select 2"));

        var (code, _, error) = await PsqlAsync(pooler, AdminUser, "DISABLE");
        Assert.NotEqual(0, code);
        Assert.Contains("42601: a database is required", error, StringComparison.Ordinal);
        (code, _, error) = await PsqlAsync(pooler, StatsUser, "ENABLE test");
        Assert.Contains("42501: admin access needed", error, StringComparison.Ordinal);

        Assert.Equal("ENABLE", await AdminAsync(pooler, "ENABLE test"));
        await using var next = await pooler.OpenAsync();
        Assert.Equal(3, await ScalarAsync(next, "select 3"));
        Assert.EndsWith("|0|0", Row((await PsqlAsync(pooler, StatsUser, "SHOW DATABASES")).Output, "test|"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stats_user_may_show_but_not_pause()
    {
        await using var pooler = await StartAsync();

        var (code, _, error) = await PsqlAsync(pooler, StatsUser, "PAUSE");
        Assert.NotEqual(0, code);
        Assert.Contains("42501: admin access needed", error, StringComparison.Ordinal);
        Assert.False(pooler.Pooler.IsAnyPaused);

        await using var console = await OpenAsync(pooler, StatsUser);
        await using var pause = new NpgsqlCommand("PAUSE", console);
        var denied = await Assert.ThrowsAsync<PostgresException>(() => pause.ExecuteNonQueryAsync(Cancel));
        Assert.Equal("42501", denied.SqlState);
        Assert.Single(await ShowAsync(console, "SHOW VERSION"));
    }

    [Fact]
    public async Task Users_in_neither_admin_users_nor_stats_users_are_refused_after_authentication()
    {
        await using var pooler = await StartAsync();

        var (code, _, error) = await PsqlAsync(pooler, PgGate.Sandbox.LocalClusterUser.Test, "SHOW VERSION");

        Assert.NotEqual(0, code);
        Assert.Contains("user \"test\" may not use the admin console", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_commands_answer_42601_and_point_to_show_help()
    {
        await using var pooler = await StartAsync();

        var (code, _, error) = await PsqlAsync(pooler, AdminUser, "SHOW NONSENSE");
        Assert.NotEqual(0, code);
        Assert.Contains("42601: invalid command 'SHOW NONSENSE', use SHOW HELP;", error, StringComparison.Ordinal);

        await using var console = await OpenAsync(pooler, AdminUser);
        await using var select = new NpgsqlCommand("select 1", console);
        var invalid = await Assert.ThrowsAsync<PostgresException>(() => select.ExecuteScalarAsync(Cancel));
        Assert.Equal("42601", invalid.SqlState);
        Assert.Contains("PAUSE [<db>]", invalid.Hint, StringComparison.Ordinal);
        // The connection survives the error.
        Assert.Equal(Pooler.Version, (await ShowAsync(console, "SHOW VERSION")).Single()["version"]);
    }

    [Fact]
    public async Task Set_changes_a_setting_at_once_and_show_config_reports_it()
    {
        await using var pooler = await StartAsync();

        Assert.Equal("SET default_pool_size=4", await AdminAsync(pooler, "SET default_pool_size = 4"));
        Assert.Equal(4, pooler.Pooler.Settings.DefaultPoolSize);
        Assert.Equal("default_pool_size|4|20|yes", Row((await PsqlAsync(pooler, StatsUser, "SHOW CONFIG")).Output, "default_pool_size|"));

        var (code, _, error) = await PsqlAsync(pooler, AdminUser, "SET listen_port = 1");
        Assert.NotEqual(0, code);
        Assert.Contains("listen_port cannot be changed while running", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_applies_an_edited_ini_without_dropping_a_connected_client()
    {
        var directory = Directory.CreateTempSubdirectory("pggate-console-reload-");
        try
        {
            var userList = Path.Combine(directory.FullName, "userlist.txt");
            await File.WriteAllTextAsync(userList, UserList, Cancel);
            var ini = Path.Combine(directory.FullName, "pgbouncer.ini");
            var original = $"""
                [databases]
                test = host={fixture.Primary.Host} port={fixture.Primary.Port}
                [pgbouncer]
                listen_addr = {PoolingFixture.PoolerHost}
                pool_mode = transaction
                auth_type = scram-sha-256
                auth_file = userlist.txt
                admin_users = {AdminUser.Name}
                stats_users = {StatsUser.Name}
                default_pool_size = 10
                """;
            await File.WriteAllTextAsync(ini, original, Cancel);
            PoolerSettings Load() => PgBouncerIni.Load(ini).Settings with { ListenPort = 0 };

            await using var pooler = await fixture.StartPoolerAsync(_ => Load());
            pooler.Pooler.SettingsSource = Load;
            await using var client = await pooler.OpenAsync();
            await using var transaction = await client.BeginTransactionAsync(Cancel);
            Assert.Equal(1, await ScalarAsync(client, "select 1"));

            await File.WriteAllTextAsync(ini, original.Replace("default_pool_size = 10", "default_pool_size = 3", StringComparison.Ordinal)
                .Replace("[pgbouncer]", $"alias = host={fixture.Primary.Host} dbname=test\n[pgbouncer]", StringComparison.Ordinal), Cancel);
            Assert.Equal("RELOAD", await AdminAsync(pooler, "RELOAD"));

            // The client in the middle of its transaction goes on as if nothing happened.
            Assert.Equal(2, await ScalarAsync(client, "select 2"));
            await transaction.CommitAsync(Cancel);
            Assert.Equal(3, pooler.Pooler.Settings.DefaultPoolSize);
            Assert.StartsWith($"alias|{fixture.Primary.Host}|5432|test||3|",
                Row((await PsqlAsync(pooler, StatsUser, "SHOW DATABASES")).Output, "alias|"), StringComparison.Ordinal);
            await using var aliased = await pooler.OpenAsync(database: "alias");
            await using (var command = new NpgsqlCommand("select current_database()", aliased))
            {
                Assert.Equal("test", await command.ExecuteScalarAsync(Cancel));
            }

            // A broken edit is refused and the running settings stay.
            await File.WriteAllTextAsync(ini, original.Replace("default_pool_size = 10", "default_pool_size = many", StringComparison.Ordinal), Cancel);
            var (code, _, error) = await PsqlAsync(pooler, AdminUser, "RELOAD");
            Assert.NotEqual(0, code);
            Assert.Contains($"F0000: RELOAD failed, the previous settings stay in force: {ini}:10: default_pool_size = many: expected a whole number >= 0",
                error, StringComparison.Ordinal);
            Assert.Equal(3, pooler.Pooler.Settings.DefaultPoolSize);
            Assert.Equal(4, await ScalarAsync(client, "select 4"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task<Dictionary<string, object?>> StatsRowAsync(NpgsqlConnection console) =>
        (await ShowAsync(console, "SHOW STATS")).Single(r => (string?)r["database"] == PoolingFixture.Database);

    private sealed class ResumeOnDispose(Pooler pooler, PoolPauseScope scope) : IDisposable
    {
        public void Dispose()
        {
            pooler.Resume(scope);
            pooler.Resume();
        }
    }

    /// <summary>Runs an admin console command that must succeed; returns its trimmed output (the command tag).</summary>
    private static async Task<string> AdminAsync(PoolerUnderTest pooler, string command)
    {
        var (code, output, error) = await PsqlAsync(pooler, AdminUser, command);
        Assert.True(code == 0, error);
        return output.Trim();
    }

    private static string Row(string psqlOutput, string prefix) =>
        psqlOutput.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))
        ?? throw new Xunit.Sdk.XunitException($"no row starting with {prefix} in:\n{psqlOutput}");

    private static async Task<int> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt32(await command.ExecuteScalarAsync(Cancel), CultureInfo.InvariantCulture);
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(100, Cancel);
        return true;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out after {Bound.TotalSeconds} s waiting for {what}");
            }

            await Task.Delay(20, Cancel);
        }
    }
}
