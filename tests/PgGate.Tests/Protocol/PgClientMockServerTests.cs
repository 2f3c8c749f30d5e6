using System.Diagnostics;
using System.Text;
using PgGate.Protocol;
using PgGate.Protocol.Auth;
using PgGate.Protocol.Client;

namespace PgGate.Tests.Protocol;

/// <summary>PgClient against a scripted server: flows and failures a real PostgreSQL will not produce on demand.</summary>
public class PgClientMockServerTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(10);

    private static PgClientOptions Options(MockPgServer server, string? password = null, TimeSpan? connectTimeout = null) => new()
    {
        Host = server.Host,
        Port = server.Port,
        User = "alice",
        Password = password,
        Database = "app",
        ApplicationName = "probe",
        ConnectTimeout = connectTimeout ?? TestTimeout,
    };

    [Fact]
    public async Task Cleartext_login_sends_the_startup_parameters_and_collects_status_and_key()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var server = new MockPgServer();
        var serverTask = Task.Run(async () =>
        {
            await using var connection = await server.AcceptAsync(cts.Token);
            var startup = await connection.ReadStartupAsync(cts.Token);
            await connection.SendAsync(BackendMessageWriter.WriteAuthenticationCleartextPassword, cts.Token);
            var password = await connection.ReadMessageAsync(cts.Token);
            await connection.SendReadyAsync(cts.Token, key: Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
            await connection.WaitForCloseAsync(cts.Token);
            return (startup, password);
        }, cts.Token);

        await using (var client = await PgClient.ConnectAsync(Options(server, "pw"), cts.Token))
        {
            Assert.Equal("15.18", client.ServerParameters["server_version"]);
            Assert.Equal("on", client.ServerParameters["in_hot_standby"]);
            Assert.Equal(4242, client.ProcessId);
            Assert.Equal(32, client.SecretKey.Length);
            Assert.Equal(TransactionStatus.Idle, client.TransactionStatus);
        }

        var (startup, password) = await serverTask;
        Assert.Equal("alice", startup.Startup!.User);
        Assert.Equal("app", startup.Startup.Database);
        Assert.Equal("probe", startup.Startup.ApplicationName);
        Assert.Equal("UTF8", startup.Startup.GetParameter("client_encoding"));
        Assert.Equal((byte)'p', password.Code);
        Assert.Equal("pw\0", Encoding.UTF8.GetString(password.Payload));
    }

    [Fact]
    public async Task Dispose_sends_Terminate()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var server = new MockPgServer();
        var serverTask = Task.Run(async () =>
        {
            await using var connection = await server.AcceptAsync(cts.Token);
            await connection.ReadStartupAsync(cts.Token);
            await connection.SendReadyAsync(cts.Token);
            return await connection.ReadMessageAsync(cts.Token);
        }, cts.Token);

        var client = await PgClient.ConnectAsync(Options(server), cts.Token);
        await client.DisposeAsync();

        Assert.Equal((byte)'X', (await serverTask).Code);
        Assert.True(client.IsBroken);
    }

    [Fact]
    public async Task A_forged_SCRAM_server_signature_is_refused()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var server = new MockPgServer();
        var serverTask = Task.Run(async () =>
        {
            await using var connection = await server.AcceptAsync(cts.Token);
            await connection.ReadStartupAsync(cts.Token);
            var scram = ScramSha256Server.ForPassword("pw");
            await connection.SendAsync(w => BackendMessageWriter.WriteAuthenticationSasl(w, [ScramSha256Server.MechanismName]), cts.Token);
            var initial = await connection.ReadMessageAsync(cts.Token);
            Assert.True(FrontendMessageReader.TryReadSaslInitialResponse(initial.Payload, out var mechanism, out var clientFirst));
            Assert.Equal(ScramSha256Server.MechanismName, mechanism);
            var serverFirst = scram.HandleClientFirstMessage(clientFirst).Message!;
            await connection.SendAsync(w => BackendMessageWriter.WriteAuthenticationSaslContinue(w, serverFirst), cts.Token);
            await connection.ReadMessageAsync(cts.Token);
            await connection.SendAsync(w => BackendMessageWriter.WriteAuthenticationSaslFinal(
                w, Encoding.UTF8.GetBytes("v=" + Convert.ToBase64String(new byte[32]))), cts.Token);
            await connection.WaitForCloseAsync(cts.Token);
        }, cts.Token);

        var e = await Assert.ThrowsAsync<PgProtocolException>(() => PgClient.ConnectAsync(Options(server, "pw"), cts.Token));
        Assert.Contains("signature", e.Message, StringComparison.Ordinal);
        await serverTask;
    }

    [Fact]
    public async Task AuthenticationOk_before_the_SCRAM_exchange_finished_is_refused()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var server = new MockPgServer();
        var serverTask = Task.Run(async () =>
        {
            await using var connection = await server.AcceptAsync(cts.Token);
            await connection.ReadStartupAsync(cts.Token);
            await connection.SendAsync(w => BackendMessageWriter.WriteAuthenticationSasl(w, [ScramSha256Server.MechanismName]), cts.Token);
            await connection.ReadMessageAsync(cts.Token);
            await connection.SendReadyAsync(cts.Token);
            await connection.WaitForCloseAsync(cts.Token);
        }, cts.Token);

        var e = await Assert.ThrowsAsync<PgProtocolException>(() => PgClient.ConnectAsync(Options(server, "pw"), cts.Token));
        Assert.Contains("before proving", e.Message, StringComparison.Ordinal);
        await serverTask;
    }

    [Fact]
    public async Task A_password_request_without_a_configured_password_says_so()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var server = new MockPgServer();
        var serverTask = Task.Run(async () =>
        {
            await using var connection = await server.AcceptAsync(cts.Token);
            await connection.ReadStartupAsync(cts.Token);
            await connection.SendAsync(w => BackendMessageWriter.WriteAuthenticationMd5Password(w, [1, 2, 3, 4]), cts.Token);
            await connection.WaitForCloseAsync(cts.Token);
        }, cts.Token);

        var e = await Assert.ThrowsAsync<PgConnectionException>(() => PgClient.ConnectAsync(Options(server), cts.Token));
        Assert.Contains("requires md5 authentication for user \"alice\", but no password is configured", e.Message, StringComparison.Ordinal);
        await serverTask;
    }

    [Fact]
    public async Task An_unsupported_authentication_method_is_named()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var server = new MockPgServer();
        var serverTask = Task.Run(async () =>
        {
            await using var connection = await server.AcceptAsync(cts.Token);
            await connection.ReadStartupAsync(cts.Token);
            await connection.SendRawAsync([(byte)'R', 0, 0, 0, 8, 0, 0, 0, 7], cts.Token);
            await connection.WaitForCloseAsync(cts.Token);
        }, cts.Token);

        var e = await Assert.ThrowsAsync<PgConnectionException>(() => PgClient.ConnectAsync(Options(server, "pw"), cts.Token));
        Assert.Contains("Gss (7)", e.Message, StringComparison.Ordinal);
        await serverTask;
    }

    [Fact]
    public async Task A_corrupt_message_length_is_a_protocol_error()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var server = new MockPgServer();
        var serverTask = Task.Run(async () =>
        {
            await using var connection = await server.AcceptAsync(cts.Token);
            await connection.ReadStartupAsync(cts.Token);
            await connection.SendRawAsync([(byte)'R', 0, 0, 0, 2], cts.Token);
            await connection.WaitForCloseAsync(cts.Token);
        }, cts.Token);

        var e = await Assert.ThrowsAsync<PgProtocolException>(() => PgClient.ConnectAsync(Options(server), cts.Token));
        Assert.Contains("invalid length 2", e.Message, StringComparison.Ordinal);
        await serverTask;
    }

    [Fact]
    public async Task A_server_that_hangs_up_during_startup_is_a_connection_error()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var server = new MockPgServer();
        var serverTask = Task.Run(async () =>
        {
            await using var connection = await server.AcceptAsync(cts.Token);
            await connection.ReadStartupAsync(cts.Token);
        }, cts.Token);

        var e = await Assert.ThrowsAsync<PgConnectionException>(() => PgClient.ConnectAsync(Options(server), cts.Token));
        Assert.Contains("closed the connection unexpectedly", e.Message, StringComparison.Ordinal);
        await serverTask;
    }

    [Fact]
    public async Task A_silent_server_triggers_the_connect_timeout_on_time()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var server = new MockPgServer();
        var serverTask = Task.Run(async () =>
        {
            await using var connection = await server.AcceptAsync(cts.Token);
            await connection.ReadStartupAsync(cts.Token);
            await connection.WaitForCloseAsync(cts.Token);
        }, cts.Token);

        var stopwatch = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<TimeoutException>(
            () => PgClient.ConnectAsync(Options(server, connectTimeout: TimeSpan.FromMilliseconds(300)), cts.Token));
        stopwatch.Stop();

        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(2));
        Assert.Contains($"127.0.0.51:{server.Port}", e.Message, StringComparison.Ordinal);
        await serverTask; // the server sees the client hang up once the timeout has passed
    }

    [Fact]
    public async Task The_callers_token_cancels_a_connect_as_cancellation_not_timeout()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var server = new MockPgServer();
        var serverTask = Task.Run(async () =>
        {
            await using var connection = await server.AcceptAsync(cts.Token);
            await connection.ReadStartupAsync(cts.Token);
            await connection.WaitForCloseAsync(cts.Token);
        }, cts.Token);
        using var caller = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => PgClient.ConnectAsync(Options(server), caller.Token));
        await serverTask;
    }

    [Fact]
    public async Task Cancelling_a_query_returns_promptly_and_breaks_the_connection()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var server = new MockPgServer();
        var serverTask = Task.Run(async () =>
        {
            await using var connection = await server.AcceptAsync(cts.Token);
            await connection.ReadStartupAsync(cts.Token);
            await connection.SendReadyAsync(cts.Token);
            await connection.ReadMessageAsync(cts.Token); // the query, never answered
            await connection.WaitForCloseAsync(cts.Token);
        }, cts.Token);
        await using var client = await PgClient.ConnectAsync(Options(server), cts.Token);
        using var queryTimeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        var stopwatch = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.QueryAsync("select 1", queryTimeout.Token));

        Assert.InRange(stopwatch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.True(client.IsBroken);
        await Assert.ThrowsAsync<PgConnectionException>(() => client.QueryAsync("select 1", cts.Token));
        await serverTask;
    }

    [Fact]
    public async Task A_FATAL_error_followed_by_a_hang_up_surfaces_as_the_server_error()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var server = new MockPgServer();
        var serverTask = Task.Run(async () =>
        {
            await using var connection = await server.AcceptAsync(cts.Token);
            await connection.ReadStartupAsync(cts.Token);
            await connection.SendReadyAsync(cts.Token);
            await connection.ReadMessageAsync(cts.Token);
            await connection.SendAsync(w => BackendMessageWriter.WriteErrorResponse(
                w, ErrorSeverity.Fatal, SqlState.AdminShutdown, "terminating connection due to administrator command"), cts.Token);
        }, cts.Token);
        await using var client = await PgClient.ConnectAsync(Options(server), cts.Token);

        var e = await Assert.ThrowsAsync<PgServerException>(() => client.QueryAsync("select 1", cts.Token));

        Assert.Equal("57P01", e.SqlState);
        Assert.Equal("FATAL", e.Severity);
        Assert.True(client.IsBroken);
        await serverTask;
    }

    [Fact]
    public async Task Messages_split_into_single_bytes_are_reassembled()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var server = new MockPgServer();
        var serverTask = Task.Run(async () =>
        {
            await using var connection = await server.AcceptAsync(cts.Token);
            await connection.ReadStartupAsync(cts.Token);
            var writer = new System.Buffers.ArrayBufferWriter<byte>();
            BackendMessageWriter.WriteAuthenticationOk(writer);
            BackendMessageWriter.WriteParameterStatus(writer, "server_version", "15.18");
            BackendMessageWriter.WriteReadyForQuery(writer, TransactionStatus.Idle);
            foreach (var b in writer.WrittenSpan.ToArray())
            {
                await connection.SendRawAsync([b], cts.Token);
            }

            await connection.WaitForCloseAsync(cts.Token);
        }, cts.Token);

        await using (var client = await PgClient.ConnectAsync(Options(server), cts.Token))
        {
            Assert.Equal("15.18", client.ServerParameters["server_version"]);
        }

        await serverTask;
    }
}
