using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using PgGate.Services;
using PgGate.Services.Relay;

namespace PgGate.Tests.Services;

/// <summary>
/// The epoll relay with real loopback sockets: a test client, the socket a relay loop accepted from it, and a
/// test server the session connects to. No PostgreSQL: the relay must not care what the bytes are.
/// </summary>
public sealed class RelaySessionTests : IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);
    private static readonly IPAddress Loopback = IPAddress.Parse("127.0.0.99");

    private readonly Socket _front = Listen();
    private readonly Socket _back = Listen();
    private readonly ServiceStats _stats = new();
    private readonly AcceptedClients _accepted = new();
    private readonly RelayListener _listener;

    public RelaySessionTests()
    {
        _listener = RelayEngine.Shared.Listen(_front, _accepted);
    }

    /// <summary>Collects what the relay loops accept on the front socket.</summary>
    private sealed class AcceptedClients : IAcceptHandler
    {
        public Channel<int> Fds { get; } = Channel.CreateUnbounded<int>();

        public void OnAccepted(int fd) => Fds.Writer.TryWrite(fd);

        public void OnAcceptPressure(int errno) => throw new InvalidOperationException("accept failed with errno " + errno);
    }

    private static Socket Listen(int backlog = 64)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(Loopback, 0));
        s.Listen(backlog);
        return s;
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>A running session: the test's client end, the server end the relay connected to, and the relay's task.</summary>
    private async Task<(Socket Client, Socket Server, RelaySession Session, Task Run)> StartAsync()
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(_front.LocalEndPoint!, Token);
        var accepted = await _accepted.Fds.Reader.ReadAsync(Token).AsTask().WaitAsync(Bound, Token);

        var session = RelayEngine.Shared.CreateSession(_stats);
        var port = ((IPEndPoint)_back.LocalEndPoint!).Port;
        var serverAccept = _back.AcceptAsync(Token).AsTask();
        var error = await ServerConnector.ConnectAsync(session, Loopback.ToString(), port, TimeSpan.FromSeconds(5), Token);
        Assert.Null(error);
        var server = await serverAccept.WaitAsync(Bound, Token);
        var run = session.RunAsync(accepted).AsTask();
        return (client, server, session, run);
    }

    private static async Task<byte[]> ReceiveExactlyAsync(Socket socket, int count)
    {
        var buffer = new byte[count];
        var read = 0;
        while (read < count)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), Token).AsTask().WaitAsync(Bound, Token);
            Assert.NotEqual(0, n);
            read += n;
        }
        return buffer;
    }

    /// <summary>0 on an orderly end, -1 on a reset: either way the peer is gone.</summary>
    private static async Task<int> ReceiveEndAsync(Socket socket)
    {
        var buffer = new byte[16];
        try
        {
            return await socket.ReceiveAsync(buffer, Token).AsTask().WaitAsync(Bound, Token);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return -1;
        }
    }

    private static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Fact]
    public async Task Bytes_flow_both_ways_and_are_counted()
    {
        var (client, server, _, run) = await StartAsync();
        using (client)
        using (server)
        {
            var request = Pattern(1000, 1);
            await client.SendAsync(request, Token);
            Assert.Equal(request, await ReceiveExactlyAsync(server, request.Length));

            var reply = Pattern(2000, 2);
            await server.SendAsync(reply, Token);
            Assert.Equal(reply, await ReceiveExactlyAsync(client, reply.Length));

            Assert.Equal(1000, _stats.BytesIn);
            Assert.Equal(2000, _stats.BytesOut);
            client.Shutdown(SocketShutdown.Both);
            server.Shutdown(SocketShutdown.Both);
            await run.WaitAsync(Bound, Token);
        }
    }

    [Fact]
    public async Task Both_directions_at_full_speed_with_slow_receivers_deliver_every_byte_in_order()
    {
        var (client, server, _, run) = await StartAsync();
        using (client)
        using (server)
        {
            const int size = 8 * 1024 * 1024;
            var up = Pattern(size, 3);
            var down = Pattern(size, 4);
            // Both ends write everything before reading much, so the relay's buffers and the sockets' fill up both ways.
            var clientSends = Task.Run(async () => await client.SendAsync(up, Token), Token);
            var serverSends = Task.Run(async () => await server.SendAsync(down, Token), Token);
            await Task.Delay(200, Token);
            var atServer = ReceiveExactlyAsync(server, size);
            var atClient = ReceiveExactlyAsync(client, size);
            Assert.Equal(up, await atServer);
            Assert.Equal(down, await atClient);
            await Task.WhenAll(clientSends, serverSends).WaitAsync(Bound, Token);
            Assert.Equal(size, _stats.BytesIn);
            Assert.Equal(size, _stats.BytesOut);

            client.Shutdown(SocketShutdown.Send);
            server.Shutdown(SocketShutdown.Send);
            await run.WaitAsync(Bound, Token);
        }
    }

    [Fact]
    public async Task A_half_close_is_passed_on_and_the_other_direction_keeps_flowing()
    {
        var (client, server, _, run) = await StartAsync();
        using (client)
        using (server)
        {
            await client.SendAsync("last words"u8.ToArray(), Token);
            client.Shutdown(SocketShutdown.Send);

            Assert.Equal("last words"u8.ToArray(), await ReceiveExactlyAsync(server, 10));
            Assert.Equal(0, await ReceiveEndAsync(server));
            Assert.False(run.IsCompleted);

            await server.SendAsync("goodbye"u8.ToArray(), Token);
            Assert.Equal("goodbye"u8.ToArray(), await ReceiveExactlyAsync(client, 7));
            server.Shutdown(SocketShutdown.Send);
            Assert.Equal(0, await ReceiveEndAsync(client));
            await run.WaitAsync(Bound, Token);
        }
    }

    [Fact]
    public async Task Shutdown_from_another_thread_closes_both_connections_at_once()
    {
        var (client, server, session, run) = await StartAsync();
        using (client)
        using (server)
        {
            await client.SendAsync("x"u8.ToArray(), Token);
            Assert.Equal("x"u8.ToArray(), await ReceiveExactlyAsync(server, 1));

            var watch = Stopwatch.StartNew();
            await Task.Run(() => session.Shutdown("pg-test-1 is down"), Token);
            Assert.True(await ReceiveEndAsync(client) <= 0);
            Assert.True(await ReceiveEndAsync(server) <= 0);
            await run.WaitAsync(Bound, Token);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"the session took {watch.Elapsed} to close");
            Assert.Equal("pg-test-1 is down", session.ShutdownReason);
            Assert.Equal(1, _stats.ShutdownSessions);

            session.Shutdown("again");      // a second shutdown, after the close, touches nothing
            Assert.Equal(1, _stats.ShutdownSessions);
        }
    }

    [Fact]
    public async Task A_session_shut_down_before_it_starts_closes_when_it_starts()
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(_front.LocalEndPoint!, Token);
        var accepted = await _accepted.Fds.Reader.ReadAsync(Token).AsTask().WaitAsync(Bound, Token);
        var session = RelayEngine.Shared.CreateSession(_stats);
        var serverAccept = _back.AcceptAsync(Token).AsTask();
        Assert.Null(await ServerConnector.ConnectAsync(session, Loopback.ToString(), ((IPEndPoint)_back.LocalEndPoint!).Port,
            TimeSpan.FromSeconds(5), Token));
        using var server = await serverAccept.WaitAsync(Bound, Token);

        session.Shutdown("went down while connecting");
        await session.RunAsync(accepted).AsTask().WaitAsync(Bound, Token);
        Assert.True(await ReceiveEndAsync(client) <= 0);
        Assert.True(await ReceiveEndAsync(server) <= 0);
    }

    [Fact]
    public async Task Many_sessions_relay_side_by_side()
    {
        var sessions = new List<(Socket Client, Socket Server, RelaySession Session, Task Run)>();
        for (var i = 0; i < 100; i++)
            sessions.Add(await StartAsync());
        try
        {
            var exchanges = sessions.Select(async (s, i) =>
            {
                var data = Pattern(100 + i, i);
                await s.Client.SendAsync(data, Token);
                var atServer = await ReceiveExactlyAsync(s.Server, data.Length);
                await s.Server.SendAsync(atServer, Token);
                Assert.Equal(data, await ReceiveExactlyAsync(s.Client, data.Length));
                s.Client.Shutdown(SocketShutdown.Send);
                s.Server.Shutdown(SocketShutdown.Send);
                await s.Run.WaitAsync(Bound, Token);
            });
            await Task.WhenAll(exchanges);
        }
        finally
        {
            foreach (var s in sessions)
            {
                s.Client.Dispose();
                s.Server.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_refused_connect_says_so()
    {
        int port;
        using (var closed = Listen())
            port = ((IPEndPoint)closed.LocalEndPoint!).Port;
        var session = RelayEngine.Shared.CreateSession(_stats);
        var error = await ServerConnector.ConnectAsync(session, Loopback.ToString(), port, TimeSpan.FromSeconds(5), Token);
        Assert.NotNull(error);
        Assert.Contains("refused", error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_connect_that_gets_no_answer_times_out_and_a_cancelled_one_ends_at_once()
    {
        // A listener that never accepts and whose queue is full drops new SYNs: the connect hangs.
        using var full = Listen(backlog: 0);
        var endpoint = (IPEndPoint)full.LocalEndPoint!;
        var fillers = new List<Socket>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(s);
                _ = s.ConnectAsync(endpoint, Token).AsTask();
            }
            await Task.Delay(300, Token);

            var session = RelayEngine.Shared.CreateSession(_stats);
            var watch = Stopwatch.StartNew();
            var error = await ServerConnector.ConnectAsync(session, Loopback.ToString(), endpoint.Port, TimeSpan.FromMilliseconds(400), Token)
                .AsTask().WaitAsync(Bound, Token);
            Assert.Contains("timed out", error, StringComparison.Ordinal);
            Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(350), TimeSpan.FromSeconds(5));

            using var cts = CancellationTokenSource.CreateLinkedTokenSource(Token);
            cts.CancelAfter(200);
            watch.Restart();
            error = await ServerConnector.ConnectAsync(session, Loopback.ToString(), endpoint.Port, TimeSpan.FromSeconds(30), cts.Token)
                .AsTask().WaitAsync(Bound, Token);
            Assert.Contains("cancelled", error, StringComparison.Ordinal);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"the cancelled connect took {watch.Elapsed}");
        }
        finally
        {
            foreach (var s in fillers)
                s.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _listener.StopAsync().WaitAsync(Bound);
        _front.Dispose();
        _back.Dispose();
        while (_accepted.Fds.Reader.TryRead(out var fd))
            _ = LinuxNative.Close(fd);
    }
}
