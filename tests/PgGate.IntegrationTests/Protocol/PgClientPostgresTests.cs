using System.Diagnostics;
using PgGate.Protocol;
using PgGate.Protocol.Auth;
using PgGate.Protocol.Client;

namespace PgGate.IntegrationTests.Protocol;

/// <summary>PgClient against a real PostgreSQL 15.</summary>
[Collection(ProtocolPostgresCollection.Name)]
public sealed class PgClientPostgresTests(ProtocolPostgresFixture postgres)
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(30);

    private PgClientOptions Options(string user, string? password, string? database = "postgres") => new()
    {
        Host = ProtocolPostgresFixture.Host,
        Port = postgres.Port,
        User = user,
        Password = password,
        Database = database,
        ApplicationName = "pggate-protocol-tests",
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };

    [Fact]
    public async Task A_scram_user_logs_in_and_sees_a_primary()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var client = await PgClient.ConnectAsync(
            Options(ProtocolPostgresFixture.ScramUser, ProtocolPostgresFixture.ScramPassword), cts.Token);

        var results = await client.QueryAsync("select pg_is_in_recovery()", cts.Token);

        Assert.Equal("f", Assert.Single(results).GetScalar());
        Assert.Equal("SELECT 1", results[0].CommandTag);
        Assert.Equal("pg_is_in_recovery", results[0].Columns[0].Name);
        Assert.Equal(PgTypeOid.Bool, results[0].Columns[0].TypeOid);
        Assert.StartsWith("15.", client.ServerParameters["server_version"], StringComparison.Ordinal);
        Assert.Equal("off", client.ServerParameters["in_hot_standby"]);
        Assert.Equal("UTF8", client.ServerParameters["client_encoding"]);
        Assert.Equal("pggate-protocol-tests", client.ServerParameters["application_name"]);
        Assert.NotEqual(0, client.ProcessId);
        Assert.Equal(4, client.SecretKey.Length);
        Assert.Equal(ProtocolPostgresFixture.ScramUser, (await client.QueryAsync("select current_user", cts.Token))[0].GetScalar());
    }

    [Fact]
    public async Task An_md5_user_logs_in()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var client = await PgClient.ConnectAsync(
            Options(ProtocolPostgresFixture.Md5User, ProtocolPostgresFixture.Md5Password), cts.Token);

        Assert.Equal(ProtocolPostgresFixture.Md5User, (await client.QueryAsync("select current_user", cts.Token))[0].GetScalar());
    }

    [Fact]
    public async Task A_trust_user_logs_in_without_a_password()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var client = await PgClient.ConnectAsync(Options(ProtocolPostgresFixture.TrustUser, password: null), cts.Token);

        Assert.Equal(ProtocolPostgresFixture.TrustUser, (await client.QueryAsync("select current_user", cts.Token))[0].GetScalar());
    }

    [Theory]
    [InlineData(ProtocolPostgresFixture.ScramUser)]
    [InlineData(ProtocolPostgresFixture.Md5User)]
    public async Task A_wrong_password_is_refused_with_28P01(string user)
    {
        using var cts = new CancellationTokenSource(TestTimeout);

        var e = await Assert.ThrowsAsync<PgServerException>(() => PgClient.ConnectAsync(Options(user, "wrong"), cts.Token));

        Assert.Equal(SqlState.InvalidPassword, e.SqlState);
        Assert.Equal("FATAL", e.Severity);
        Assert.Contains(user, e.MessageText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_database_is_refused_with_3D000()
    {
        using var cts = new CancellationTokenSource(TestTimeout);

        var e = await Assert.ThrowsAsync<PgServerException>(
            () => PgClient.ConnectAsync(Options(ProtocolPostgresFixture.TrustUser, null, database: "no_such_db"), cts.Token));

        Assert.Equal(SqlState.InvalidCatalogName, e.SqlState);
    }

    [Fact]
    public async Task A_statement_error_has_its_SQLSTATE_and_leaves_the_connection_usable()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var client = await PgClient.ConnectAsync(Options(ProtocolPostgresFixture.TrustUser, null), cts.Token);

        var e = await Assert.ThrowsAsync<PgServerException>(() => client.QueryAsync("select 1/0", cts.Token));

        Assert.Equal("22012", e.SqlState);
        Assert.Equal("ERROR", e.Severity);
        Assert.Equal("division by zero", e.MessageText);
        Assert.False(client.IsBroken);
        Assert.Equal("2", (await client.QueryAsync("select 2", cts.Token))[0].GetScalar());
    }

    [Fact]
    public async Task An_error_inside_a_transaction_is_reported_and_the_status_follows()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var client = await PgClient.ConnectAsync(Options(ProtocolPostgresFixture.TrustUser, null), cts.Token);

        await client.QueryAsync("begin", cts.Token);
        Assert.Equal(TransactionStatus.InTransaction, client.TransactionStatus);
        await Assert.ThrowsAsync<PgServerException>(() => client.QueryAsync("select * from no_such_table", cts.Token));
        Assert.Equal(TransactionStatus.Failed, client.TransactionStatus);
        var e = await Assert.ThrowsAsync<PgServerException>(() => client.QueryAsync("select 1", cts.Token));
        Assert.Equal(SqlState.InFailedSqlTransaction, e.SqlState);
        await client.QueryAsync("rollback", cts.Token);
        Assert.Equal(TransactionStatus.Idle, client.TransactionStatus);
    }

    [Fact]
    public async Task A_multi_statement_query_returns_each_result_and_tracks_parameter_changes()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var client = await PgClient.ConnectAsync(Options(ProtocolPostgresFixture.TrustUser, null), cts.Token);

        var results = await client.QueryAsync(
            "set application_name = 'renamed'; select g, null::text as n from generate_series(1, 3) g; select 'é'", cts.Token);

        Assert.Equal(3, results.Count);
        Assert.Equal("SET", results[0].CommandTag);
        Assert.Empty(results[0].Columns);
        Assert.Equal("SELECT 3", results[1].CommandTag);
        Assert.Equal(["1", "2", "3"], results[1].Rows.Select(r => r[0]));
        Assert.All(results[1].Rows, r => Assert.Null(r[1]));
        Assert.Equal(1, results[1].GetOrdinal("n"));
        Assert.Equal("é", results[2].GetScalar());
        Assert.Equal("renamed", client.ServerParameters["application_name"]);
    }

    [Fact]
    public async Task An_empty_query_returns_no_result_sets()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var client = await PgClient.ConnectAsync(Options(ProtocolPostgresFixture.TrustUser, null), cts.Token);

        Assert.Empty(await client.QueryAsync("", cts.Token));
    }

    [Fact]
    public async Task Notices_reach_the_notice_handler()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        var notices = new List<PgErrorFields>();
        var options = Options(ProtocolPostgresFixture.TrustUser, null);
        await using var client = await PgClient.ConnectAsync(
            new PgClientOptions
            {
                Host = options.Host, Port = options.Port, User = options.User, Database = options.Database, NoticeHandler = notices.Add,
            },
            cts.Token);

        await client.QueryAsync("do $$ begin raise notice 'hello from plpgsql'; end $$", cts.Token);

        Assert.Equal("hello from plpgsql", Assert.Single(notices).Message);
        Assert.Equal("NOTICE", notices[0].EffectiveSeverity);
    }

    [Fact]
    public async Task A_parameterised_query_needs_no_quoting()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var client = await PgClient.ConnectAsync(Options(ProtocolPostgresFixture.TrustUser, null), cts.Token);

        var result = await client.QueryAsync("select $1::text || '|' || coalesce($2::text, 'NULL')", ["it's; drop table x --", null], cts.Token);

        Assert.Equal("it's; drop table x --|NULL", result.GetScalar());
        Assert.Equal("SELECT 1", result.CommandTag);
        var none = await client.QueryAsync("select 1 where false", [], cts.Token);
        Assert.Empty(none.Rows);
        var e = await Assert.ThrowsAsync<PgServerException>(() => client.QueryAsync("select $1::int", ["x"], cts.Token));
        Assert.Equal("22P02", e.SqlState);
        Assert.Equal("3", (await client.QueryAsync("select $1::int + 1", ["2"], cts.Token)).GetScalar());
    }

    [Fact]
    public async Task Cancelling_pg_sleep_ends_it_with_57014_within_two_seconds()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var client = await PgClient.ConnectAsync(Options(ProtocolPostgresFixture.TrustUser, null), cts.Token);
        var sleep = client.QueryAsync("select pg_sleep(10)", cts.Token);
        await WaitUntilActiveAsync(client.ProcessId, cts.Token);

        var stopwatch = Stopwatch.StartNew();
        await PgClient.CancelAsync(ProtocolPostgresFixture.Host, postgres.Port, client.ProcessId, client.SecretKey, cts.Token);
        var e = await Assert.ThrowsAsync<PgServerException>(() => sleep);
        stopwatch.Stop();

        Assert.Equal(SqlState.QueryCanceled, e.SqlState);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.Equal("ok", (await client.QueryAsync("select 'ok'", cts.Token))[0].GetScalar());
    }

    [Fact]
    public async Task The_instance_cancel_uses_the_connections_own_endpoint_and_key()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var client = await PgClient.ConnectAsync(Options(ProtocolPostgresFixture.TrustUser, null), cts.Token);
        var sleep = client.QueryAsync("select pg_sleep(10)", cts.Token);
        await WaitUntilActiveAsync(client.ProcessId, cts.Token);

        await client.CancelAsync(cts.Token);

        Assert.Equal(SqlState.QueryCanceled, (await Assert.ThrowsAsync<PgServerException>(() => sleep)).SqlState);
    }

    [Fact]
    public async Task A_cancel_with_the_wrong_key_does_nothing()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var client = await PgClient.ConnectAsync(Options(ProtocolPostgresFixture.TrustUser, null), cts.Token);
        var sleep = client.QueryAsync("select pg_sleep(1)", cts.Token);
        await WaitUntilActiveAsync(client.ProcessId, cts.Token);

        var wrongKey = client.SecretKey.ToArray();
        wrongKey[0] ^= 0xFF;
        await PgClient.CancelAsync(ProtocolPostgresFixture.Host, postgres.Port, client.ProcessId, wrongKey, cts.Token);

        Assert.Equal("SELECT 1", Assert.Single(await sleep).CommandTag);
    }

    [Fact]
    public async Task A_query_token_stops_waiting_for_a_long_query_promptly()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var client = await PgClient.ConnectAsync(Options(ProtocolPostgresFixture.TrustUser, null), cts.Token);
        using var probeTimeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var stopwatch = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.QueryAsync("select pg_sleep(10)", probeTimeout.Token));

        Assert.InRange(stopwatch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.True(client.IsBroken);
    }

    [Fact]
    public async Task A_terminated_backend_surfaces_as_57P01()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var client = await PgClient.ConnectAsync(Options(ProtocolPostgresFixture.TrustUser, null), cts.Token);
        var sleep = client.QueryAsync("select pg_sleep(10)", cts.Token);
        await WaitUntilActiveAsync(client.ProcessId, cts.Token);

        await postgres.PsqlAsync($"select pg_terminate_backend({client.ProcessId})");

        var e = await Assert.ThrowsAsync<PgServerException>(() => sleep);
        Assert.Equal(SqlState.AdminShutdown, e.SqlState);
        Assert.True(client.IsBroken);
    }

    [Fact]
    public async Task A_Unix_socket_connection_works()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var client = await PgClient.ConnectAsync(
            new PgClientOptions { Host = postgres.SocketDirectory, Port = postgres.Port, User = ProtocolPostgresFixture.Superuser }, cts.Token);

        Assert.Equal("postgres", (await client.QueryAsync("select current_database()", cts.Token))[0].GetScalar());
    }

    [Fact]
    public async Task SCRAM_pass_through_logs_in_with_keys_recovered_from_a_client()
    {
        using var cts = new CancellationTokenSource(TestTimeout);

        // auth_query: fetch the user's verifier as PgBouncer does.
        await using var admin = await PgClient.ConnectAsync(Options(ProtocolPostgresFixture.Superuser, null), cts.Token);
        var row = await admin.QueryAsync("select rolpassword from pg_authid where rolname = $1", [ProtocolPostgresFixture.ScramUser], cts.Token);
        var verifier = ScramVerifier.Parse(row.GetScalar()!);

        // A client authenticates to "the pooler" with its password...
        var front = new ScramSha256Server(verifier);
        var client = new ScramSha256Client(ProtocolPostgresFixture.ScramPassword);
        var serverFirst = front.HandleClientFirstMessage(client.CreateClientFirstMessage());
        var clientFinal = client.HandleServerFirstMessage(serverFirst.Message);
        Assert.True(front.HandleClientFinalMessage(clientFinal.Message).IsSuccess);

        // ...and the pooler logs in to PostgreSQL with the recovered keys, never having seen the password.
        var options = Options(ProtocolPostgresFixture.ScramUser, password: null);
        await using var passThrough = await PgClient.ConnectAsync(
            new PgClientOptions { Host = options.Host, Port = options.Port, User = options.User, Database = options.Database, ScramKeys = front.RecoveredKeys },
            cts.Token);

        Assert.Equal(ProtocolPostgresFixture.ScramUser, (await passThrough.QueryAsync("select current_user", cts.Token))[0].GetScalar());
    }

    [Fact]
    public async Task The_md5_hash_PostgreSQL_stores_is_the_one_Md5Password_computes()
    {
        var stored = await postgres.PsqlAsync($"select rolpassword from pg_authid where rolname = '{ProtocolPostgresFixture.Md5User}'");

        Assert.Equal(Md5Password.HashForStorage(ProtocolPostgresFixture.Md5User, ProtocolPostgresFixture.Md5Password), stored);
    }

    /// <summary>Waits (bounded) until the backend is running a statement, so a cancel has something to cancel.</summary>
    private async Task WaitUntilActiveAsync(int processId, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            var state = await postgres.PsqlAsync(
                $"select state from pg_stat_activity where pid = {processId} and query like 'select pg_sleep%'");
            if (state == "active")
            {
                return;
            }

            await Task.Delay(20, cancellationToken);
        }

        throw new TimeoutException($"Backend {processId} did not start its pg_sleep within 10 s.");
    }
}
