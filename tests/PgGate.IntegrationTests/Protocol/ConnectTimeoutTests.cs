using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using PgGate.Protocol.Client;

namespace PgGate.IntegrationTests.Protocol;

/// <summary>Connect timeouts against real TCP behaviour on loopback.</summary>
public sealed class ConnectTimeoutTests
{
    [Fact]
    public async Task A_TCP_connect_that_never_completes_is_cut_at_the_connect_timeout()
    {
        // A listener with a zero backlog that never accepts: after one queued connection the kernel drops further SYNs,
        // so the next connect hangs exactly like one to an unreachable host.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.51"), 0));
        listener.Listen(0);
        var endPoint = (IPEndPoint)listener.LocalEndPoint!;
        using var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await filler.ConnectAsync(endPoint, TestContext.Current.CancellationToken);

        var stopwatch = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<TimeoutException>(() => PgClient.ConnectAsync(new PgClientOptions
        {
            Host = "127.0.0.51",
            Port = endPoint.Port,
            User = "nobody",
            ConnectTimeout = TimeSpan.FromMilliseconds(500),
        }, TestContext.Current.CancellationToken));
        stopwatch.Stop();

        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(450), TimeSpan.FromSeconds(3));
        Assert.Contains("timed out after 0.5 s", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_closed_port_fails_fast_with_a_connection_error()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.51"), 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        var stopwatch = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<PgConnectionException>(() => PgClient.ConnectAsync(new PgClientOptions
        {
            Host = "127.0.0.51",
            Port = port,
            User = "nobody",
            ConnectTimeout = TimeSpan.FromSeconds(10),
        }, TestContext.Current.CancellationToken));

        Assert.InRange(stopwatch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.Contains($"127.0.0.51:{port}", e.Message, StringComparison.Ordinal);
    }
}
