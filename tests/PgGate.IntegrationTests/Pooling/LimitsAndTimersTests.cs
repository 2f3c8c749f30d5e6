using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using PgGate.IntegrationTests.Fixtures;
using PgGate.Pooling;

namespace PgGate.IntegrationTests.Pooling;

/// <summary>PgBouncer's limits and timers: pool_size, FIFO queueing, reserve_pool, max_db/user_connections,
/// max_client_conn, query_wait_timeout, client_idle_timeout, idle_transaction_timeout, server_lifetime,
/// server_idle_timeout, min_pool_size, server_connect_timeout; and PAUSE, RESUME, RECONNECT, KILL, RELOAD.</summary>
[Collection(PoolingCollection.Name)]
public sealed class LimitsAndTimersTests(PoolingFixture fixture)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Pool_size_caps_server_connections_and_waiting_clients_are_served_first_come_first_served()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 2 });
        await using var a = await pooler.OpenAsync();
        await using var b = await pooler.OpenAsync();
        var ta = await BeginAsync(a);
        var tb = await BeginAsync(b);

        await using var c = await pooler.OpenAsync();
        await using var d = await pooler.OpenAsync();
        var third = ServedAtAsync(c);
        await WaitForWaitersAsync(pooler, 1);
        var fourth = ServedAtAsync(d);
        await WaitForWaitersAsync(pooler, 2);
        Assert.Equal(2, pooler.Pooler.GetServers().Count);

        await ta.CommitAsync(Cancel);
        var servedC = await third.WaitAsync(Bound, Cancel);
        await tb.CommitAsync(Cancel);
        var servedD = await fourth.WaitAsync(Bound, Cancel);
        // When the server executed each query, by its own clock: d may run on the server c just gave back, before
        // tb commits, so the order the client-side continuations happen to run in proves nothing.
        Assert.True(servedC < servedD, $"c was served at {servedC:O}, after d at {servedD:O}");
        Assert.Equal(2, pooler.Pooler.GetServers().Count);
        Assert.True(pooler.Pooler.GetPools().Single().Stats.WaitTime > 0);
    }

    [Fact]
    public async Task Query_wait_timeout_answers_the_request_with_an_error_and_keeps_the_client()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 1, QueryWaitTimeout = TimeSpan.FromSeconds(1) });
        await using var holder = await pooler.OpenAsync();
        var transaction = await BeginAsync(holder);
        await using var waiting = await pooler.OpenAsync();

        var stopwatch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(waiting, "select 1"));
        Assert.Equal("57014", error.SqlState);
        Assert.Contains("query_wait_timeout", error.MessageText, StringComparison.Ordinal);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromSeconds(0.8), TimeSpan.FromSeconds(5));

        await transaction.CommitAsync(Cancel);
        Assert.Equal(1, await ScalarAsync(waiting, "select 1"));
    }

    [Fact]
    public async Task The_reserve_pool_opens_after_reserve_pool_timeout()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with
        {
            DefaultPoolSize = 1,
            ReservePoolSize = 1,
            ReservePoolTimeout = TimeSpan.FromMilliseconds(500),
        });
        await using var holder = await pooler.OpenAsync();
        var transaction = await BeginAsync(holder);
        await using var waiting = await pooler.OpenAsync();

        var stopwatch = Stopwatch.StartNew();
        Assert.Equal(1, await ScalarAsync(waiting, "select 1").WaitAsync(Bound, Cancel));
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(400), $"served after {stopwatch.Elapsed}, before reserve_pool_timeout");
        Assert.Equal(2, pooler.Pooler.GetServers().Count);
        await transaction.CommitAsync(Cancel);
    }

    [Theory]
    [InlineData("max_db_connections")]
    [InlineData("max_user_connections")]
    public async Task Database_and_user_limits_hold_across_pools(string limit)
    {
        await using var pooler = await fixture.StartPoolerAsync(s => limit == "max_db_connections"
            ? s with { DefaultPoolSize = 5, MaxDbConnections = 1, MaxUserConnections = 0, QueryWaitTimeout = TimeSpan.FromSeconds(1) }
            : s with { DefaultPoolSize = 5, MaxDbConnections = 0, MaxUserConnections = 1, QueryWaitTimeout = TimeSpan.FromSeconds(1) });
        await using var a = await pooler.OpenAsync();
        var transaction = await BeginAsync(a);
        await using var b = await pooler.OpenAsync();

        var error = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(b, "select 1"));
        Assert.Contains("query_wait_timeout", error.MessageText, StringComparison.Ordinal);
        Assert.Single(pooler.Pooler.GetServers());
        await transaction.CommitAsync(Cancel);
        Assert.Equal(1, await ScalarAsync(b, "select 1"));
    }

    [Fact]
    public async Task Max_client_conn_refuses_one_more_client_with_53300()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { MaxClientConn = 2 });
        await using var a = await pooler.OpenAsync();
        await using var b = await pooler.OpenAsync();

        var error = await Assert.ThrowsAsync<PostgresException>(() => pooler.OpenAsync());
        Assert.Equal("53300", error.SqlState);
        Assert.Contains("max_client_conn", error.MessageText, StringComparison.Ordinal);
        await a.CloseAsync();
        await PgClient.WaitUntilAsync(() => Task.FromResult(pooler.Pooler.ClientCount == 1), Bound, "the closed client to be gone");
        await using var c = await pooler.OpenAsync();
        Assert.Equal(1, await ScalarAsync(c, "select 1"));
    }

    [Fact]
    public async Task Client_idle_timeout_disconnects_an_idle_client_with_a_message()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { ClientIdleTimeout = TimeSpan.FromSeconds(1) });
        await using var raw = await RawPgClient.ConnectAsync(pooler.Host, pooler.Port, "test", "test", "test", Cancel);

        var error = await raw.ReadErrorAsync(Cancel).WaitAsync(Bound, Cancel);
        Assert.NotNull(error);
        Assert.Equal("FATAL", error.Severity);
        Assert.Contains("client_idle_timeout", error.Message, StringComparison.Ordinal);
        Assert.True(await raw.IsClosedByPeerAsync(Cancel));
    }

    [Fact]
    public async Task Idle_transaction_timeout_disconnects_the_client_and_rolls_back()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 1, IdleTransactionTimeout = TimeSpan.FromSeconds(1) });
        await using var raw = await RawPgClient.ConnectAsync(pooler.Host, pooler.Port, "test", "test", "test", Cancel);
        await raw.SendQueriesAsync(["begin", "create temp table idle_tx_probe(x int)"], Cancel);
        await raw.ReadRowsUntilReadyAsync(2, Cancel);

        var error = await raw.ReadErrorAsync(Cancel).WaitAsync(Bound, Cancel);
        Assert.NotNull(error);
        Assert.Equal("25P03", error.SqlState);

        // The only server is reused: the abandoned transaction (and its temp table) was rolled back.
        await using var next = await pooler.OpenAsync();
        Assert.True(await ScalarAsync<bool>(next, "select to_regclass('pg_temp.idle_tx_probe') is null"));
        Assert.Equal("0", await fixture.Primary.RunSqlAsync("select count(*) from pg_stat_activity where state like 'idle in transaction%'", Cancel));
    }

    [Fact]
    public async Task Server_lifetime_replaces_old_connections_when_they_are_released()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 1, ServerLifetime = TimeSpan.FromMilliseconds(500) });
        await using var client = await pooler.OpenAsync();
        var first = await PoolModeTests.BackendPidAsync(client);
        Assert.Equal(first, await PoolModeTests.BackendPidAsync(client));
        await Task.Delay(700, Cancel);

        // Past its lifetime the connection is not handed out again: the next transaction gets a new one.
        var second = await PoolModeTests.BackendPidAsync(client);
        Assert.NotEqual(first, second);
        Assert.Equal(second, await PoolModeTests.BackendPidAsync(client));
    }

    [Fact]
    public async Task Server_idle_timeout_closes_idle_connections_but_min_pool_size_keeps_some()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with
        {
            DefaultPoolSize = 4,
            MinPoolSize = 1,
            ServerIdleTimeout = TimeSpan.FromMilliseconds(500),
        });
        var connections = new List<NpgsqlConnection>();
        var transactions = new List<NpgsqlTransaction>();
        for (var i = 0; i < 3; i++)
        {
            var connection = await pooler.OpenAsync();
            connections.Add(connection);
            transactions.Add(await BeginAsync(connection));
        }

        Assert.Equal(3, pooler.Pooler.GetServers().Count);
        foreach (var transaction in transactions)
        {
            await transaction.CommitAsync(Cancel);
        }

        await PgClient.WaitUntilAsync(() => Task.FromResult(pooler.Pooler.GetServers().Count == 1), Bound,
            "idle servers beyond min_pool_size to be closed");
        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_server_that_does_not_answer_fails_the_login_after_server_connect_timeout()
    {
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.86"), 0));
        silent.Listen(8);
        var port = ((IPEndPoint)silent.LocalEndPoint!).Port;
        await using var pooler = await fixture.StartPoolerAsync(s => s with
        {
            ServerConnectTimeout = TimeSpan.FromSeconds(1),
            Databases = [new PoolerDatabase { Name = "*", Host = "127.0.0.86", Port = port }],
        });

        var stopwatch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<PostgresException>(() => pooler.OpenAsync());
        Assert.Equal("08006", error.SqlState);
        Assert.Contains("server_connect_timeout", error.MessageText, StringComparison.Ordinal);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromSeconds(0.8), TimeSpan.FromSeconds(10));

        // Within server_login_retry the next client learns at once instead of waiting again.
        stopwatch.Restart();
        var again = await Assert.ThrowsAsync<PostgresException>(() => pooler.OpenAsync());
        Assert.Contains("server login has been failing", again.MessageText, StringComparison.Ordinal);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(0.8), $"the cached failure took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task A_wrong_server_password_is_reported_to_the_client()
    {
        await using var pooler = await fixture.StartPoolerAsync(userList: "\"test\" \"test\"\n", configure: s => s with
        {
            Databases = [new PoolerDatabase { Name = "*", Host = fixture.Primary.Host, Port = fixture.Primary.Port, User = "dbuser_dba", Password = "wrong" }],
        });

        var error = await Assert.ThrowsAsync<PostgresException>(() => pooler.OpenAsync());
        Assert.Equal("28P01", error.SqlState);
        Assert.Contains("dbuser_dba", error.MessageText, StringComparison.Ordinal);
        Assert.Equal(1, pooler.Pooler.GetPools().Single().Stats.ServerLoginFailures);
    }

    [Fact]
    public async Task Pause_waits_for_transactions_and_resume_serves_the_queue()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 2 });
        await using var busy = await pooler.OpenAsync();
        var transaction = await BeginAsync(busy);

        var pause = pooler.Pooler.PauseAsync("test", Cancel);
        await Task.Delay(200, Cancel);
        Assert.False(pause.IsCompleted, "PAUSE must wait for the open transaction");
        await ScalarAsync(busy, "select 1");
        await transaction.CommitAsync(Cancel);
        await pause.WaitAsync(Bound, Cancel);
        Assert.Empty(pooler.Pooler.GetServers());

        await using var later = await pooler.OpenAsync();
        var waiting = ScalarAsync(later, "select 42");
        await WaitForWaitersAsync(pooler, 1);
        Assert.False(waiting.IsCompleted);
        pooler.Pooler.Resume("test");
        Assert.Equal(42, await waiting.WaitAsync(Bound, Cancel));
    }

    [Fact]
    public async Task Reconnect_replaces_servers_without_disturbing_clients()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 1 });
        await using var client = await pooler.OpenAsync();
        var before = await PoolModeTests.BackendPidAsync(client);

        pooler.Pooler.Reconnect();

        Assert.NotEqual(before, await PoolModeTests.BackendPidAsync(client));
    }

    [Fact]
    public async Task Kill_drops_the_databases_clients_and_new_ones_wait_for_resume()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 1 });
        await using var raw = await RawPgClient.ConnectAsync(pooler.Host, pooler.Port, "test", "test", "test", Cancel);
        await raw.SendQueriesAsync(["select 1"], Cancel);
        await raw.ReadRowsUntilReadyAsync(1, Cancel);

        pooler.Pooler.Kill("test");

        var error = await raw.ReadErrorAsync(Cancel).WaitAsync(Bound, Cancel);
        Assert.Equal("57P01", error!.SqlState);
        // A new client logs in (the pool's parameters are known) but its query waits for RESUME.
        await using var next = await RawPgClient.ConnectAsync(pooler.Host, pooler.Port, "test", "test", "test", Cancel);
        await next.SendQueriesAsync(["select 7"], Cancel);
        var waiting = next.ReadRowsUntilReadyAsync(1, Cancel);
        await WaitForWaitersAsync(pooler, 1);
        Assert.False(waiting.IsCompleted);
        pooler.Pooler.Resume("test");
        Assert.Equal(["7"], await waiting.WaitAsync(Bound, Cancel));
    }

    [Fact]
    public async Task Reload_applies_new_limits_and_files_without_dropping_clients()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 1 });
        await using var client = await pooler.OpenAsync();
        Assert.Equal(1, await ScalarAsync(client, "select 1"));

        // A new user in auth_file and a bigger pool, applied without restarting.
        await File.AppendAllTextAsync(pooler.Pooler.Settings.AuthFile!, "\"pool_queried\" \"queried-secret\"\n", Cancel);
        pooler.Pooler.Reload(pooler.Pooler.Settings with { DefaultPoolSize = 3 });

        await using var newcomer = await pooler.OpenAsync("pool_queried", "queried-secret");
        Assert.Equal("pool_queried", await ScalarAsync<string>(newcomer, "select current_user"));
        Assert.Equal(1, await ScalarAsync(client, "select 1"));
        var t1 = await BeginAsync(client);
        await using var other = await pooler.OpenAsync();
        var t2 = await BeginAsync(other);
        Assert.Equal(2, pooler.Pooler.GetServers().Count(s => s.User == "test"));
        await t1.CommitAsync(Cancel);
        await t2.CommitAsync(Cancel);

        // A broken HBA file is refused and the old settings stay.
        var broken = Path.Combine(pooler.Directory.FullName, "broken_hba.conf");
        await File.WriteAllTextAsync(broken, "host all all not-an-address md5\n", Cancel);
        var refused = Assert.Throws<PoolerConfigurationException>(() =>
            pooler.Pooler.Reload(pooler.Pooler.Settings with { AuthType = PoolerAuthType.Hba, AuthHbaFile = broken }));
        Assert.Contains("broken_hba.conf:1", refused.Message, StringComparison.Ordinal);
        Assert.Equal(PoolerAuthType.ScramSha256, pooler.Pooler.Settings.AuthType);
    }

    private static async Task<NpgsqlTransaction> BeginAsync(NpgsqlConnection connection)
    {
        var transaction = await connection.BeginTransactionAsync(Cancel);
        await using var command = new NpgsqlCommand("select 1", connection, transaction);
        await command.ExecuteNonQueryAsync(Cancel);
        return transaction;
    }

    private static Task<DateTime> ServedAtAsync(NpgsqlConnection connection) => ScalarAsync<DateTime>(connection, "select clock_timestamp()");

    private static Task WaitForWaitersAsync(PoolerUnderTest pooler, int count) =>
        PgClient.WaitUntilAsync(() => Task.FromResult(pooler.Pooler.GetPools().Sum(p => p.ClientsWaiting) == count), Bound,
            $"{count} client(s) to wait for a server");

    private static Task<int> ScalarAsync(NpgsqlConnection connection, string sql) => ScalarAsync<int>(connection, sql);

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(Cancel))!;
    }
}
