using System.Buffers;
using System.Net.Sockets;

namespace PgGate.Services.Relay;

/// <summary>
/// A byte relay between a client and a server socket, as HAProxy's TCP mode: whatever one side sends
/// the other receives, TLS included (PostgreSQL's SSLRequest and the handshake pass through untouched).
/// When one side finishes sending, the other side is told (half-close); when either fails, or the
/// session is shut down, both connections close.
/// </summary>
internal sealed class SocketRelaySession : IServiceSession
{
    // 8 KiB per direction: PostgreSQL writes in 8 KiB blocks, and 16 KiB per session keeps 5000
    // sessions under 100 MiB of buffers.
    private const int BufferSize = 8192;

    private readonly Socket _client;
    private readonly Socket _server;
    private readonly ServiceStats _stats;
    private string? _shutdownReason;

    public SocketRelaySession(Socket client, Socket server, ServiceStats stats)
    {
        _client = client;
        _server = server;
        _stats = stats;
    }

    /// <summary>Why the session was cut from outside, if it was.</summary>
    public string? ShutdownReason => Volatile.Read(ref _shutdownReason);

    public async Task RunAsync()
    {
        var up = PumpAsync(_client, _server, toServer: true);
        var down = PumpAsync(_server, _client, toServer: false);
        try
        {
            var first = await Task.WhenAny(up, down).ConfigureAwait(false);
            if (await first.ConfigureAwait(false))
            {
                // Clean end of one direction: pass the FIN on and let the other direction drain.
                ShutdownSend(first == up ? _server : _client);
                await (first == up ? down : up).ConfigureAwait(false);
            }
        }
        finally
        {
            Close();
            await Task.WhenAll(up, down).ConfigureAwait(false);
        }
    }

    public void Shutdown(string reason)
    {
        if (Interlocked.CompareExchange(ref _shutdownReason, reason, null) is null)
        {
            _stats.CountShutdown();
            Close();
        }
    }

    /// <returns>True when <paramref name="from"/> ended cleanly (EOF), false on an error or shutdown.</returns>
    private async Task<bool> PumpAsync(Socket from, Socket to, bool toServer)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer.AsMemory(0, BufferSize), SocketFlags.None).ConfigureAwait(false);
                if (n == 0)
                    return true;
                if (toServer)
                    _stats.AddBytesIn(n);
                else
                    _stats.AddBytesOut(n);
                var sent = 0;
                while (sent < n)
                    sent += await to.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None).ConfigureAwait(false);
            }
        }
        catch (SocketException)
        {
            return false;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void ShutdownSend(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void Close()
    {
        _client.Dispose();
        _server.Dispose();
    }
}
