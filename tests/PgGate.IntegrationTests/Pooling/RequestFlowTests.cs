using System.Diagnostics;
using Npgsql;
using PgGate.IntegrationTests.Fixtures;
using PgGate.Pooling;

namespace PgGate.IntegrationTests.Pooling;

/// <summary>Pipelining, COPY, notices and notifications, cancel (running and queued) and clients that vanish mid-transaction.</summary>
[Collection(PoolingCollection.Name)]
public sealed class RequestFlowTests(PoolingFixture fixture)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_pipelined_batch_gets_every_answer_in_order_and_the_server_is_reused_afterwards()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 1 });
        await using var connection = await pooler.OpenAsync();

        // Npgsql sends the whole batch (Parse/Bind/Describe/Execute per statement, one Sync) before reading.
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("select 1"),
                new NpgsqlBatchCommand("select $1::text") { Parameters = { new() { Value = "two" } } },
                new NpgsqlBatchCommand("select generate_series(3, 5)"),
            },
        };
        await using (var reader = await batch.ExecuteReaderAsync(Cancel))
        {
            var seen = new List<string>();
            do
            {
                while (await reader.ReadAsync(Cancel))
                {
                    seen.Add(reader.GetValue(0).ToString()!);
                }
            }
            while (await reader.NextResultAsync(Cancel));
            Assert.Equal(["1", "two", "3", "4", "5"], seen);
        }

        // An error in the middle: the rest of the batch is skipped, the connection stays usable.
        await using var failing = new NpgsqlBatch(connection)
        {
            BatchCommands = { new NpgsqlBatchCommand("select 1"), new NpgsqlBatchCommand("select 1/0"), new NpgsqlBatchCommand("select 3") },
        };
        var error = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var reader = await failing.ExecuteReaderAsync(Cancel);
            while (await reader.NextResultAsync(Cancel))
            {
            }
        });
        Assert.Equal("22012", error.SqlState);
        await using var after = new NpgsqlCommand("select 'after'", connection);
        Assert.Equal("after", await after.ExecuteScalarAsync(Cancel));
        Assert.Single(pooler.Pooler.GetServers());
    }

    [Fact]
    public async Task Several_simple_queries_sent_before_reading_are_answered_in_order()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 1 });
        await using var raw = await RawPgClient.ConnectAsync(pooler.Host, pooler.Port, "test", "test", "test", Cancel);

        await raw.SendQueriesAsync(["select 'a'", "select 'b'", "begin", "select 'c'", "commit"], Cancel);

        Assert.Equal(["a", "b", "c"], await raw.ReadRowsUntilReadyAsync(5, Cancel));
    }

    [Fact]
    public async Task Copy_in_and_out_work_in_text_and_binary()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 1 });
        await using var connection = await pooler.OpenAsync();
        await using (var create = new NpgsqlCommand("drop table if exists copy_target; create table copy_target(id int, payload text)", connection))
        {
            await create.ExecuteNonQueryAsync(Cancel);
        }

        var payload = new string('x', 20_000);
        await using (var writer = await connection.BeginBinaryImportAsync("copy copy_target from stdin (format binary)", Cancel))
        {
            for (var i = 0; i < 500; i++)
            {
                await writer.StartRowAsync(Cancel);
                await writer.WriteAsync(i, Cancel);
                await writer.WriteAsync(payload, Cancel);
            }

            Assert.Equal(500UL, await writer.CompleteAsync(Cancel));
        }

        await using (var text = await connection.BeginTextImportAsync("copy copy_target from stdin", Cancel))
        {
            await text.WriteAsync("1000\tfrom text\n");
        }

        var rows = 0;
        await using (var reader = await connection.BeginBinaryExportAsync("copy (select id, payload from copy_target order by id) to stdout (format binary)", Cancel))
        {
            while (await reader.StartRowAsync(Cancel) != -1)
            {
                Assert.Equal(rows < 500 ? rows : 1000, await reader.ReadAsync<int>(Cancel));
                Assert.Equal(rows < 500 ? payload : "from text", await reader.ReadAsync<string>(Cancel));
                rows++;
            }
        }

        Assert.Equal(501, rows);
        using (var textOut = await connection.BeginTextExportAsync("copy (select id from copy_target where id >= 499 order by id) to stdout", Cancel))
        {
            Assert.Equal("499\n1000\n", await textOut.ReadToEndAsync(Cancel));
        }

        // A COPY that fails half way leaves a usable connection and a clean server.
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var broken = await connection.BeginTextImportAsync("copy copy_target from stdin", Cancel);
            await broken.WriteAsync("not-a-number\tboom\n");
        });
        await using var check = new NpgsqlCommand("select count(*) from copy_target", connection);
        Assert.Equal(501L, await check.ExecuteScalarAsync(Cancel));
    }

    [Fact]
    public async Task Psql_copy_round_trips_through_the_pooler()
    {
        await using var pooler = await fixture.StartPoolerAsync();
        var script = "create temp table t(a int, b text);\n\\copy t from stdin\n1\tone\n2\ttwo\n\\.\n\\copy (select a, b from t order by a) to stdout\n";

        // Session mode: the temp table must live on one server for the whole script.
        await using var session = await fixture.StartPoolerAsync(s => s with { PoolMode = PoolMode.Session });
        var (_, output, _) = await PoolingFixture.RunToolAsync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", .. session.LibpqArguments()], "test", input: script);
        Assert.Equal("1\tone\n2\ttwo", output.Trim());
    }

    [Fact]
    public async Task Notices_and_notifications_reach_the_client()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { PoolMode = PoolMode.Session });
        await using var listener = await pooler.OpenAsync();
        await using var sender = await pooler.OpenAsync();
        var notices = new List<string>();
        listener.Notice += (_, e) => notices.Add(e.Notice.MessageText);
        var notified = new TaskCompletionSource<string>();
        listener.Notification += (_, e) => notified.TrySetResult(e.Payload);

        await using (var listen = new NpgsqlCommand("LISTEN pooler_test; DO $$ BEGIN RAISE NOTICE 'hello from the server'; END $$", listener))
        {
            await listen.ExecuteNonQueryAsync(Cancel);
        }

        await using (var notify = new NpgsqlCommand("NOTIFY pooler_test, 'payload-1'", sender))
        {
            await notify.ExecuteNonQueryAsync(Cancel);
        }

        await listener.WaitAsync(TimeSpan.FromSeconds(10), Cancel);
        Assert.Equal("payload-1", await notified.Task.WaitAsync(TimeSpan.FromSeconds(10), Cancel));
        Assert.Contains("hello from the server", notices);
    }

    [Fact]
    public async Task Cancel_stops_the_running_query_and_the_connection_goes_on()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 2 });
        await using var connection = await pooler.OpenAsync();
        await using var bystander = await pooler.OpenAsync();
        await using var sleep = new NpgsqlCommand("select pg_sleep(30)", connection);
        var running = sleep.ExecuteNonQueryAsync(Cancel);
        await using var bystanderCommand = new NpgsqlCommand("select pg_sleep(1), 'bystander'", bystander);
        var bystanderWork = bystanderCommand.ExecuteReaderAsync(Cancel);
        await PgClient.WaitUntilAsync(async () => await ActiveSleepsAsync() >= 1, TimeSpan.FromSeconds(10), "the sleep to start");

        var stopwatch = Stopwatch.StartNew();
        sleep.Cancel();
        var error = await Assert.ThrowsAsync<OperationCanceledException>(() => running.WaitAsync(TimeSpan.FromSeconds(20), Cancel));
        Assert.Equal("57014", Assert.IsType<PostgresException>(error.InnerException).SqlState);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"the cancel took {stopwatch.Elapsed}");

        // The other client's query was not cancelled.
        await using (var reader = await bystanderWork.WaitAsync(TimeSpan.FromSeconds(20), Cancel))
        {
            Assert.True(await reader.ReadAsync(Cancel));
            Assert.Equal("bystander", reader.GetString(1));
        }

        await using var after = new NpgsqlCommand("select 'still usable'", connection);
        Assert.Equal("still usable", await after.ExecuteScalarAsync(Cancel));
    }

    [Fact]
    public async Task Cancel_reaches_a_client_waiting_in_the_queue()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 1, QueryWaitTimeout = TimeSpan.FromSeconds(60) });
        await using var holder = await pooler.OpenAsync();
        await using var transaction = await holder.BeginTransactionAsync(Cancel);
        await using (var hold = new NpgsqlCommand("select 1", holder, transaction))
        {
            await hold.ExecuteNonQueryAsync(Cancel);
        }

        await using var waiting = await pooler.OpenAsync();
        await using var queued = new NpgsqlCommand("select 'never'", waiting);
        var pending = queued.ExecuteScalarAsync(Cancel);
        await PgClient.WaitUntilAsync(() => Task.FromResult(pooler.Pooler.GetPools().Sum(p => p.ClientsWaiting) == 1),
            TimeSpan.FromSeconds(10), "the second client to wait for the only server");

        var stopwatch = Stopwatch.StartNew();
        queued.Cancel();
        var error = await Assert.ThrowsAsync<OperationCanceledException>(() => pending.WaitAsync(TimeSpan.FromSeconds(20), Cancel));
        Assert.Equal("57014", Assert.IsType<PostgresException>(error.InnerException).SqlState);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"the queued request was cancelled after {stopwatch.Elapsed}");

        await transaction.CommitAsync(Cancel);
        await using var after = new NpgsqlCommand("select 'served'", waiting);
        Assert.Equal("served", await after.ExecuteScalarAsync(Cancel));
    }

    [Fact]
    public async Task A_client_that_vanishes_inside_a_transaction_leaves_no_locks_and_no_dirty_server()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 1 });
        await using (var setup = await pooler.OpenAsync())
        await using (var create = new NpgsqlCommand("drop table if exists dirty_check; create table dirty_check(id int primary key); insert into dirty_check values (1)", setup))
        {
            await create.ExecuteNonQueryAsync(Cancel);
        }

        var raw = await RawPgClient.ConnectAsync(pooler.Host, pooler.Port, "test", "test", "test", Cancel);
        await raw.SendQueriesAsync(["begin", "update dirty_check set id = 2 where id = 1", "set local statement_timeout = 1"], Cancel);
        await raw.ReadRowsUntilReadyAsync(3, Cancel);
        await raw.AbortAsync();

        // The only server is reused: it must be out of the transaction, the row lock released, the update gone.
        await using var next = await pooler.OpenAsync();
        await PgClient.WaitUntilAsync(async () =>
        {
            await using var probe = new NpgsqlCommand("select count(*) from dirty_check where id = 1", next);
            return (long)(await probe.ExecuteScalarAsync(Cancel))! == 1;
        }, TimeSpan.FromSeconds(10), "the abandoned update to be rolled back");
        await using (var update = new NpgsqlCommand("update dirty_check set id = 3 where id = 1", next))
        {
            Assert.Equal(1, await update.ExecuteNonQueryAsync(Cancel));
        }

        await using var status = new NpgsqlCommand("select current_setting('statement_timeout')", next);
        Assert.Equal("0", await status.ExecuteScalarAsync(Cancel));
    }

    [Fact]
    public async Task A_client_that_vanishes_mid_query_gets_its_server_closed_not_reused()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 1 });
        var raw = await RawPgClient.ConnectAsync(pooler.Host, pooler.Port, "test", "test", "test", Cancel);
        await raw.SendQueriesAsync(["select pg_backend_pid(), pg_sleep(30)"], Cancel);
        await PgClient.WaitUntilAsync(async () => await ActiveSleepsAsync() >= 1, TimeSpan.FromSeconds(10), "the sleep to start");
        var before = Assert.Single(pooler.Pooler.GetServers()).RemoteProcessId;
        await raw.AbortAsync();

        await using var next = await pooler.OpenAsync();
        var pid = await PoolModeTests.BackendPidAsync(next);
        Assert.NotEqual(before, pid);

        // PostgreSQL does not notice a vanished client during pg_sleep: the pooler cancels the query before closing.
        await PgClient.WaitUntilAsync(async () => await ActiveSleepsAsync() == 0, TimeSpan.FromSeconds(15), "the abandoned query to be cancelled");
    }

    private async Task<long> ActiveSleepsAsync() =>
        long.Parse(await fixture.Primary.RunSqlAsync(
            "select count(*) from pg_stat_activity where state = 'active' and (query like 'select pg_sleep(30)%' or query like 'select pg_backend_pid(), pg_sleep%')"),
            System.Globalization.CultureInfo.InvariantCulture);
}
