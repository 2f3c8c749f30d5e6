using Npgsql;

namespace PgGate.IntegrationTests.Pooling;

/// <summary>
/// Transaction-mode correctness: session parameters follow their client to whichever server it gets and never leak to
/// another client; protocol-level prepared statements work across server connections.
/// </summary>
[Collection(PoolingCollection.Name)]
public sealed class SessionStateTests(PoolingFixture fixture)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Parameters_a_client_sets_follow_it_and_never_reach_a_client_sharing_the_server()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 1 });
        await using var a = await pooler.OpenAsync(configure: b => b.ApplicationName = "client-a");
        await using var b = await pooler.OpenAsync(configure: b => b.ApplicationName = "client-b");
        var sharedPid = await PoolModeTests.BackendPidAsync(a);
        Assert.Equal(sharedPid, await PoolModeTests.BackendPidAsync(b));

        await ExecuteAsync(a, "SET DateStyle = 'German, DMY'; SET TimeZone = 'Asia/Tokyo'; SET IntervalStyle = 'iso_8601'; SET application_name = 'renamed-a'");

        // b runs on the very same server connection, and sees its own (default) settings.
        Assert.Equal(sharedPid, await PoolModeTests.BackendPidAsync(b));
        Assert.Equal("ISO, MDY", await ScalarAsync(b, "show DateStyle"));
        Assert.NotEqual("Asia/Tokyo", await ScalarAsync(b, "show TimeZone"));
        Assert.Equal("postgres", await ScalarAsync(b, "show IntervalStyle"));
        Assert.Equal("client-b", await ScalarAsync(b, "show application_name"));

        // a gets its settings back on the same server after b used it.
        Assert.Equal("German, DMY", await ScalarAsync(a, "show DateStyle"));
        Assert.Equal("Asia/Tokyo", await ScalarAsync(a, "show TimeZone"));
        Assert.Equal("iso_8601", await ScalarAsync(a, "show IntervalStyle"));
        Assert.Equal("renamed-a", await ScalarAsync(a, "show application_name"));
        Assert.Equal("renamed-a", a.PostgresParameters["application_name"]);
        Assert.Equal("German, DMY", a.PostgresParameters["DateStyle"]);
        Assert.Equal("ISO, MDY", b.PostgresParameters["DateStyle"]);
    }

    [Fact]
    public async Task Startup_parameters_are_applied_per_client_and_unknown_ones_are_refused_unless_ignored()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with
        {
            DefaultPoolSize = 1,
            IgnoreStartupParameters = ["extra_float_digits"],
        });
        await using var berlin = await pooler.OpenAsync(configure: b => b.Timezone = "Europe/Berlin");
        await using var plain = await pooler.OpenAsync();
        Assert.Equal("Europe/Berlin", await ScalarAsync(berlin, "show TimeZone"));
        Assert.NotEqual("Europe/Berlin", await ScalarAsync(plain, "show TimeZone"));

        // psql sends options=-c ...; libpq's PGOPTIONS is how users set them.
        var (_, output, _) = await PoolingFixture.RunToolAsync("psql", ["-X", "-A", "-t", "-c", "show DateStyle", .. pooler.LibpqArguments()], "test",
            environment: new Dictionary<string, string> { ["PGOPTIONS"] = "-c DateStyle=SQL,DMY" });
        Assert.Equal("SQL, DMY", output.Trim());

        var refused = await PoolingFixture.RunToolAsync("psql", ["-X", "-c", "select 1", .. pooler.LibpqArguments()], "test", allowFailure: true,
            environment: new Dictionary<string, string> { ["PGOPTIONS"] = "-c work_mem=64MB" });
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("unsupported startup parameter: work_mem", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reset_by_the_client_is_tracked_too()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 1 });
        await using var a = await pooler.OpenAsync();
        await using var b = await pooler.OpenAsync();
        await ExecuteAsync(a, "SET DateStyle = 'SQL'");
        Assert.Equal("SQL, MDY", await ScalarAsync(a, "show DateStyle"));
        await ExecuteAsync(a, "RESET ALL");
        Assert.Equal("ISO, MDY", await ScalarAsync(b, "show DateStyle"));
        Assert.Equal("ISO, MDY", await ScalarAsync(a, "show DateStyle"));
    }

    [Fact]
    public async Task Named_prepared_statements_survive_server_switches_and_are_shared_on_servers()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 2 });
        var connections = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < 6; i++)
            {
                connections.Add(await pooler.OpenAsync());
            }

            var commands = new List<NpgsqlCommand>();
            foreach (var connection in connections)
            {
                var command = new NpgsqlCommand("select $1::int + 1000", connection) { Parameters = { new() { Value = 0 } } };
                await command.PrepareAsync(Cancel);
                Assert.True(command.IsPrepared);
                commands.Add(command);
            }

            // Interleave the clients so each lands on whichever of the two servers is free.
            var tasks = new List<Task>();
            foreach (var command in commands)
            {
                tasks.Add(Task.Run(async () =>
                {
                    for (var n = 0; n < 50; n++)
                    {
                        command.Parameters[0].Value = n;
                        Assert.Equal(n + 1000, await command.ExecuteScalarAsync(Cancel));
                    }
                }, Cancel));
            }

            await Task.WhenAll(tasks);

            // Six clients prepared the same text: one statement, prepared at most once per server.
            Assert.Equal(1, pooler.Pooler.PreparedStatementCount);
            var servers = pooler.Pooler.GetServers();
            Assert.InRange(servers.Count, 1, 2);
            Assert.All(servers, s => Assert.Equal(1, s.PreparedStatements));
            foreach (var command in commands)
            {
                await command.DisposeAsync();
            }
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Npgsql_automatic_preparation_works_in_transaction_mode()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 2 });
        // The pooler shares a statement while a connected client holds it, so the count is read before the clients leave.
        var connections = new List<NpgsqlConnection>();
        try
        {
            for (var client = 0; client < 5; client++)
            {
                connections.Add(await pooler.OpenAsync(configure: b =>
                {
                    b.MaxAutoPrepare = 5;
                    b.AutoPrepareMinUsages = 2;
                }));
            }

            var tasks = new List<Task>();
            for (var client = 0; client < connections.Count; client++)
            {
                var id = client;
                var connection = connections[client];
                tasks.Add(Task.Run(async () =>
                {
                    for (var n = 0; n < 40; n++)
                    {
                        await using var command = new NpgsqlCommand("select aid, abalance from pgbench_accounts where aid = $1", connection)
                        {
                            Parameters = { new() { Value = 1 + ((id * 40) + n) % 100 } },
                        };
                        await using var reader = await command.ExecuteReaderAsync(Cancel);
                        Assert.True(await reader.ReadAsync(Cancel));
                        Assert.Equal(1 + ((id * 40) + n) % 100, reader.GetInt32(0));
                        await using var other = new NpgsqlCommand("select count(*) from pgbench_branches where bid = $1", connection)
                        {
                            Parameters = { new() { Value = 1 } },
                        };
                        await reader.DisposeAsync();
                        Assert.Equal(1L, await other.ExecuteScalarAsync(Cancel));
                    }
                }, Cancel));
            }

            await Task.WhenAll(tasks);
            Assert.Equal(2, pooler.Pooler.PreparedStatementCount);
        }
        finally
        {
            foreach (var connection in connections)
                await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task Closing_a_statement_keeps_the_shared_one_and_the_name_can_be_reused()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 1 });
        await using var connection = await pooler.OpenAsync();
        await using (var first = new NpgsqlCommand("select 'first'", connection))
        {
            await first.PrepareAsync(Cancel);
            Assert.Equal("first", await first.ExecuteScalarAsync(Cancel));
            await first.UnprepareAsync(Cancel);
        }

        Assert.Equal(0, pooler.Pooler.PreparedStatementCount);
        await using var second = new NpgsqlCommand("select 'second'", connection);
        await second.PrepareAsync(Cancel);
        Assert.Equal("second", await second.ExecuteScalarAsync(Cancel));
    }

    [Fact]
    public async Task The_least_recently_used_statement_is_evicted_and_prepared_again_on_demand()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 1, MaxPreparedStatements = 2 });
        await using var connection = await pooler.OpenAsync();
        var commands = new List<NpgsqlCommand>();
        for (var i = 0; i < 4; i++)
        {
            var command = new NpgsqlCommand($"select {i} as n", connection);
            await command.PrepareAsync(Cancel);
            commands.Add(command);
        }

        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < commands.Count; i++)
            {
                Assert.Equal(i, await commands[i].ExecuteScalarAsync(Cancel));
            }
        }

        var server = Assert.Single(pooler.Pooler.GetServers());
        Assert.Equal(2, server.PreparedStatements);
        Assert.Equal(2L, await PoolingScalar.CountServerStatementsAsync(connection));
        foreach (var command in commands)
        {
            await command.DisposeAsync();
        }
    }

    [Fact]
    public async Task Discard_all_and_deallocate_all_forget_the_clients_statements()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 1 });
        await using var connection = await pooler.OpenAsync();
        await using (var prepared = new NpgsqlCommand("select 'kept?'", connection))
        {
            await prepared.PrepareAsync(Cancel);
            Assert.Equal(1, pooler.Pooler.PreparedStatementCount);
        }

        await ExecuteAsync(connection, "DEALLOCATE ALL");
        Assert.Equal(0, pooler.Pooler.PreparedStatementCount);
        Assert.Equal(0L, await PoolingScalar.CountServerStatementsAsync(connection));
        Assert.Equal(0, Assert.Single(pooler.Pooler.GetServers()).PreparedStatements);

        await using var again = new NpgsqlCommand("select 'again'", connection);
        await again.PrepareAsync(Cancel);
        Assert.Equal("again", await again.ExecuteScalarAsync(Cancel));
        await ExecuteAsync(connection, "DISCARD ALL");
        Assert.Equal(0, pooler.Pooler.PreparedStatementCount);
    }

    [Fact]
    public async Task A_failed_parse_leaves_no_statement_behind_and_the_name_stays_free()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 1 });
        await using var connection = await pooler.OpenAsync();
        await using (var broken = new NpgsqlCommand("select * from no_such_table", connection))
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => broken.PrepareAsync(Cancel));
            Assert.Equal("42P01", error.SqlState);
        }

        Assert.Equal(1, await ScalarAsync<int>(connection, "select 1"));
        await using var good = new NpgsqlCommand("select 2", connection);
        await good.PrepareAsync(Cancel);
        Assert.Equal(2, await good.ExecuteScalarAsync(Cancel));
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Cancel);
    }

    private static async Task<string> ScalarAsync(NpgsqlConnection connection, string sql) => (await ScalarAsync<object>(connection, sql)).ToString()!;

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(Cancel))!;
    }
}

internal static class PoolingScalar
{
    /// <summary>Statements prepared on the server connection the next transaction runs on (pg_prepared_statements).</summary>
    public static async Task<long> CountServerStatementsAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand("select count(*) from pg_prepared_statements", connection);
        return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }
}
