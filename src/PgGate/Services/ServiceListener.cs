using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PgGate.Services.Relay;

namespace PgGate.Services;

/// <summary>
/// The TCP port of one service on one node. Each client gets a server from the router (waiting in the
/// queue if need be), a connection to it within the connect timeout (retrying on another server), and
/// then a byte relay. A client that cannot be served gets a PostgreSQL ErrorResponse saying why.
/// </summary>
public sealed partial class ServiceListener : IAsyncDisposable
{
    private readonly ServiceRouter _router;
    private readonly IPEndPoint _endpoint;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Socket? _socket;
    private Task? _acceptLoop;
    private int _sessionsInFlight;

    public ServiceListener(ServiceRouter router, IPEndPoint endpoint, ILogger logger)
    {
        _router = router;
        _endpoint = endpoint;
        _logger = logger;
    }

    public ServiceStats Stats { get; } = new();
    public ServiceRouter Router => _router;
    public IPEndPoint Endpoint => _socket?.LocalEndPoint as IPEndPoint ?? _endpoint;

    /// <summary>Binds the port; throws <see cref="SocketException"/> with the address when it is taken.</summary>
    public void Start()
    {
        _socket = ListenSockets.Bind(_endpoint);
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
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex) when (ListenSockets.IsTransient(ex))
            {
                // Out of file descriptors or buffers: back off instead of spinning; existing sessions go on.
                LogAcceptPressure(_router.Name, ex.SocketErrorCode.ToString());
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
            _ = ServeAsync(client, stop);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken stop)
    {
        Interlocked.Increment(ref _sessionsInFlight);
        client.NoDelay = true;
        ListenSockets.EnableKeepAlive(client);
        var entered = false;
        try
        {
            var service = _router.Service;
            if (!Stats.TryEnter(service.MaxConn))
            {
                await ClientRefusal.SendAsync(client, new Refusal("53300",
                    $"service {_router.Name} has reached its maxconn of {service.MaxConn} client sessions on this node"), stop).ConfigureAwait(false);
                return;
            }
            entered = true;

            List<ServerState>? failed = null;
            RelaySession? session = null;
            for (var attempt = 0; attempt <= service.Retries; attempt++)
            {
                var route = await _router.RouteAsync(failed, stop).ConfigureAwait(false);
                if (route.Server is not { } server)
                {
                    Stats.CountRefusal(route.Refusal!.SqlState);
                    await ClientRefusal.SendAsync(client, route.Refusal, stop).ConfigureAwait(false);
                    return;
                }

                session ??= RelayEngine.Shared.CreateSession(Stats);
                var error = await ServerConnector.ConnectAsync(session, server.Member.Host, service.Dest.PortOn(server.Member),
                    service.ConnectTimeout, stop).ConfigureAwait(false);
                if (error is not null)
                {
                    _router.Release(server);
                    if (stop.IsCancellationRequested)
                        return;
                    server.CountFailedConnect();
                    Stats.CountConnectError();
                    LogConnectFailed(_router.Name, server.Name, error);
                    (failed ??= []).Add(server);
                    if (attempt < service.Retries)
                        Stats.CountRetry();
                    continue;
                }

                server.Attach(session);
                try
                {
                    // The server may have gone down between the pick and the attach, when no one could shut us down.
                    if (service.Options.ShutdownSessionsOnMarkedDown && _router.Servers.Find(server.Name) is not { IsUp: true })
                        session.Shutdown($"{server.Name} went down while connecting");
                    await session.RunAsync(client).ConfigureAwait(false);
                }
                finally
                {
                    server.Detach(session);
                    _router.Release(server);
                }
                return;
            }

            Stats.CountRefusal("57P03");
            await ClientRefusal.SendAsync(client, new Refusal("08001",
                $"service {_router.Name} could not connect to any server after {service.Retries + 1} attempts",
                ServiceRouter.Describe(_router.Servers)), stop).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Client went away or PgGate is stopping.
        }
        catch (Exception ex)
        {
            // Never let one client take the process down.
            LogSessionFailed(_router.Name, ex);
        }
        finally
        {
            if (entered)
                Stats.Leave();
            client.Dispose();
            Interlocked.Decrement(ref _sessionsInFlight);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket?.Dispose();
        if (_acceptLoop is not null)
            await _acceptLoop.ConfigureAwait(false);
        foreach (var s in _router.Servers.Servers)
            s.State.ShutdownSessions("PgGate is stopping");
        _stop.Dispose();
    }
}
