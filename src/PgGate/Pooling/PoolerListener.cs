using System.Net;
using System.Net.Sockets;
using PgGate.Pooling.Sessions;
using PgGate.Services;

namespace PgGate.Pooling;

/// <summary>The pooler's TCP port (listen_addr:listen_port): accepts clients and hands each to <see cref="Pooler.ServeClientAsync"/>.</summary>
public sealed class PoolerListener : IAsyncDisposable
{
    private readonly Pooler _pooler;
    private readonly IPEndPoint _endpoint;
    private readonly CancellationTokenSource _stop = new();
    private Socket? _socket;
    private Task? _acceptLoop;

    public PoolerListener(Pooler pooler, IPEndPoint endpoint)
    {
        _pooler = pooler;
        _endpoint = endpoint;
    }

    public IPEndPoint Endpoint => _socket?.LocalEndPoint as IPEndPoint ?? _endpoint;

    /// <summary>One listener per address of listen_addr ("*" is every IPv4 address; comma-separated lists are allowed).</summary>
    public static IReadOnlyList<PoolerListener> ForSettings(Pooler pooler)
    {
        var settings = pooler.Settings;
        var listeners = new List<PoolerListener>();
        foreach (var address in settings.ListenAddr.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            listeners.Add(new PoolerListener(pooler, new IPEndPoint(ListenSockets.ParseBindAddress(address), settings.ListenPort)));
        }

        return listeners;
    }

    /// <summary>Binds the port; throws <see cref="SocketException"/> when it is taken.</summary>
    public void Start()
    {
        _socket = ListenSockets.Bind(_endpoint);
        // Accepts complete on the socket event thread too, so a new client's login starts there instead of after a hop
        // through the thread pool: 25-35 % less pooler CPU per new connection (docs/benchmarks.md, section 2).
        InlineCompletions.Prefer(_socket);
        _acceptLoop = AcceptLoopAsync(_socket, _stop.Token);
    }

    private async Task AcceptLoopAsync(Socket listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (ListenSockets.IsTransient(e))
            {
                // Out of descriptors or buffers: back off instead of spinning; existing sessions go on.
                try
                {
                    await Task.Delay(100, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            _ = _pooler.ServeClientAsync(client);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        _stop.Dispose();
    }
}
