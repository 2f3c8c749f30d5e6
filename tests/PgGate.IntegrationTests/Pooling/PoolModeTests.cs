using System.Text.RegularExpressions;
using Npgsql;
using PgGate.Pooling;

namespace PgGate.IntegrationTests.Pooling;

/// <summary>Session, transaction and statement mode with real clients: Npgsql, psql and pgbench in each protocol.</summary>
[Collection(PoolingCollection.Name)]
public sealed partial class PoolModeTests(PoolingFixture fixture)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(PoolMode.Session)]
    [InlineData(PoolMode.Transaction)]
    [InlineData(PoolMode.Statement)]
    public async Task Npgsql_runs_simple_and_parameterised_queries_in_every_mode(PoolMode mode)
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { PoolMode = mode });
        await using var connection = await pooler.OpenAsync();

        await using var simple = new NpgsqlCommand("select 41 + 1", connection);
        Assert.Equal(42, await simple.ExecuteScalarAsync(Cancel));
        await using var parameterised = new NpgsqlCommand("select $1::int * 2, current_user", connection) { Parameters = { new() { Value = 21 } } };
        await using var reader = await parameterised.ExecuteReaderAsync(Cancel);
        Assert.True(await reader.ReadAsync(Cancel));
        Assert.Equal(42, reader.GetInt32(0));
        Assert.Equal("test", reader.GetString(1));
        Assert.Equal(15, connection.PostgreSqlVersion.Major);
    }

    [Theory]
    [InlineData(PoolMode.Session, "simple")]
    [InlineData(PoolMode.Session, "extended")]
    [InlineData(PoolMode.Session, "prepared")]
    [InlineData(PoolMode.Transaction, "simple")]
    [InlineData(PoolMode.Transaction, "extended")]
    [InlineData(PoolMode.Transaction, "prepared")]
    [InlineData(PoolMode.Statement, "simple")]
    [InlineData(PoolMode.Statement, "extended")]
    [InlineData(PoolMode.Statement, "prepared")]
    public async Task Pgbench_select_only_completes_every_transaction(PoolMode mode, string protocol)
    {
        // Fewer servers than clients, so in transaction and statement mode every client hops between servers.
        await using var pooler = await fixture.StartPoolerAsync(s => s with { PoolMode = mode, DefaultPoolSize = mode == PoolMode.Session ? 8 : 2 });

        var (_, output, _) = await PoolingFixture.RunToolAsync("pgbench",
            ["-n", "-S", "-M", protocol, "-c", "8", "-j", "2", "-t", "100", .. pooler.LibpqArguments()], "test");

        Assert.Equal(800, ProcessedTransactions(output));
        Assert.DoesNotContain("error", output, StringComparison.OrdinalIgnoreCase);
        var servers = pooler.Pooler.GetServers();
        Assert.InRange(servers.Count, 1, mode == PoolMode.Session ? 8 : 2);
    }

    [Theory]
    [InlineData("simple")]
    [InlineData("extended")]
    [InlineData("prepared")]
    public async Task Pgbench_read_write_transactions_complete_in_transaction_mode(string protocol)
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 2 });

        // One thread per client: pgbench prepares with a blocking PQprepare, so a client waiting for a server inside
        // it would stall a thread-mate that holds the only free server inside BEGIN (with any transaction pooler).
        var (_, output, _) = await PoolingFixture.RunToolAsync("pgbench",
            ["-n", "-N", "-M", protocol, "-c", "6", "-j", "6", "-t", "50", .. pooler.LibpqArguments()], "test");

        Assert.Equal(300, ProcessedTransactions(output));
        Assert.True(pooler.Pooler.GetPools().Sum(p => p.Stats.TransactionCount) >= 300, "every pgbench transaction is counted");
    }

    [Fact]
    public async Task Transaction_mode_shares_one_server_between_clients_while_session_mode_does_not()
    {
        await using var transaction = await fixture.StartPoolerAsync(s => s with { DefaultPoolSize = 1 });
        await using var a = await transaction.OpenAsync();
        await using var b = await transaction.OpenAsync();
        Assert.Equal(await BackendPidAsync(a), await BackendPidAsync(b));

        await using var session = await fixture.StartPoolerAsync(s => s with { PoolMode = PoolMode.Session, DefaultPoolSize = 2 });
        await using var c = await session.OpenAsync();
        await using var d = await session.OpenAsync();
        var cPid = await BackendPidAsync(c);
        Assert.NotEqual(cPid, await BackendPidAsync(d));
        Assert.Equal(cPid, await BackendPidAsync(c));
    }

    [Fact]
    public async Task Statement_mode_refuses_a_transaction_block_with_25001()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { PoolMode = PoolMode.Statement });
        await using var connection = await pooler.OpenAsync();

        var error = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var begin = new NpgsqlCommand("BEGIN", connection);
            await begin.ExecuteNonQueryAsync(Cancel);
            await using var select = new NpgsqlCommand("select 1", connection);
            await select.ExecuteNonQueryAsync(Cancel);
        });

        Assert.Equal("25001", error.SqlState);
        Assert.Contains("statement pooling", error.MessageText, StringComparison.Ordinal);

        // The abandoned transaction was rolled back, not handed to the next client.
        await using var next = await pooler.OpenAsync();
        await using var status = new NpgsqlCommand("select count(*) from pg_stat_activity where state = 'idle in transaction' and usename = 'test'", next);
        await PgGate.IntegrationTests.Fixtures.PgClient.WaitUntilAsync(
            async () => (long)(await status.ExecuteScalarAsync(Cancel))! == 0, TimeSpan.FromSeconds(10), "the abandoned transaction to be rolled back");
    }

    [Fact]
    public async Task Psql_scripts_run_through_the_pooler()
    {
        await using var pooler = await fixture.StartPoolerAsync();

        var (_, output, _) = await PoolingFixture.RunToolAsync("psql",
            ["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", .. pooler.LibpqArguments()], "test",
            input: "select 'one';\nbegin;\nselect 'two';\ncommit;\n\\echo done\n");

        Assert.Equal("one\nBEGIN\ntwo\nCOMMIT\ndone", output.Trim().Replace("\r", "", StringComparison.Ordinal));
    }

    internal static async Task<int> BackendPidAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand("select pg_backend_pid()", connection);
        return (int)(await command.ExecuteScalarAsync(Cancel))!;
    }

    internal static int ProcessedTransactions(string pgbenchOutput)
    {
        var match = ProcessedPattern().Match(pgbenchOutput);
        Assert.True(match.Success, "pgbench printed no transaction count:\n" + pgbenchOutput);
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"number of transactions actually processed: (\d+)")]
    private static partial Regex ProcessedPattern();
}
