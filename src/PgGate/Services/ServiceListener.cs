using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using PgGate.Pooling;
using PgGate.Services.Relay;

namespace PgGate.Services;

/// <summary>
/// The TCP port of one service on one node. Each client gets a server from the router (waiting in the
/// queue if need be), a connection to it within the connect timeout (retrying on another server), and
/// then a byte relay. A client that cannot be served gets a PostgreSQL ErrorResponse saying why. A service with
/// <c>dest: pool</c> instead hands each client to the node's <see cref="Pooling.Pooler"/> with its own
/// <see cref="ServiceBackendResolver"/>: the pooler speaks the protocol and leases server connections on the member the
/// service routes to at each transaction.
/// </summary>
public sealed partial class ServiceListener : IAsyncDisposable, IAcceptHandler
{
    private readonly ServiceRouter _router;
    private readonly IPEndPoint _endpoint;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Socket? _socket;
    private RelayListener? _relayListener;
    private int _sessionsInFlight;

    private readonly Pooler? _pooler;
    private readonly ServiceBackendResolver? _resolver;

    public ServiceListener(ServiceRouter router, IPEndPoint endpoint, ILogger logger)
    {
        _router = router;
        _endpoint = endpoint;
        _logger = logger;
    }

    /// <summary>A pooled service's port: clients go to <paramref name="pooler"/>, servers chosen by <paramref name="resolver"/>.</summary>
    public ServiceListener(ServiceRouter router, IPEndPoint endpoint, ILogger logger, Pooler pooler, ServiceBackendResolver resolver)
        : this(router, endpoint, logger)
    {
        _pooler = pooler;
        _resolver = resolver;
    }

    /// <summary>The pooler this service hands its clients to (<c>dest: pool</c>); null for a byte relay.</summary>
    public Pooler? Pooler => _pooler;

    /// <summary>The resolver that routes the pooler's checkouts for this service; null for a byte relay.</summary>
    public ServiceBackendResolver? Resolver => _resolver;

    public ServiceStats Stats { get; } = new();
    public ServiceRouter Router => _router;
    public IPEndPoint Endpoint => _socket?.LocalEndPoint as IPEndPoint ?? _endpoint;

    /// <summary>Binds the port; throws <see cref="SocketException"/> with the address when it is taken.</summary>
    public void Start()
    {
        _socket = ListenSockets.Bind(_endpoint);
        // The relay loops accept, route, connect and relay each client on one thread, as HAProxy does.
        _relayListener = RelayEngine.Shared.Listen(_socket, this);
    }

    void IAcceptHandler.OnAccepted(int fd)
    {
        if (_stop.IsCancellationRequested)
            _ = LinuxNative.Close(fd);
        else
            _ = ServeAsync(fd, _stop.Token);
    }

    void IAcceptHandler.OnAcceptPressure(int errno) =>
        // Out of file descriptors or buffers: the loops leave this port alone for a moment; existing sessions go on.
        LogAcceptPressure(_router.Name, Marshal.GetPInvokeErrorMessage(errno));

    /// <param name="clientFd">The accepted client, non-blocking, with TCP_NODELAY and keepalive inherited from the listener.</param>
    private async Task ServeAsync(int clientFd, CancellationToken stop)
    {
        Interlocked.Increment(ref _sessionsInFlight);
        var owned = true;      // until the relay or a refusal takes the descriptor
        var entered = false;
        try
        {
            var service = _router.Service;
            if (!Stats.TryEnter(service.MaxConn))
            {
                owned = false;
                await ClientRefusal.SendAsync(AsSocket(clientFd), new Refusal("53300",
                    $"service {_router.Name} has reached its maxconn of {service.MaxConn} client sessions on this node"), stop).ConfigureAwait(false);
                return;
            }
            entered = true;

            if (_pooler is { } pooler)
            {
                // Routing happens per transaction inside the pooler; failover moves clients instead of closing them.
                owned = false;
                await pooler.ServeClientAsync(AsSocket(clientFd), _resolver).ConfigureAwait(false);
                return;
            }

            List<ServerState>? failed = null;
            RelaySession? session = null;
            for (var attempt = 0; attempt <= service.Retries; attempt++)
            {
                var route = await _router.RouteAsync(failed, stop).ConfigureAwait(false);
                if (route.Server is not { } server)
                {
                    Stats.CountRefusal(route.Refusal!.SqlState);
                    owned = false;
                    await ClientRefusal.SendAsync(AsSocket(clientFd), route.Refusal, stop).ConfigureAwait(false);
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
                    owned = false;
                    await session.RunAsync(clientFd).ConfigureAwait(false);
                }
                finally
                {
                    server.Detach(session);
                    _router.Release(server);
                }
                return;
            }

            Stats.CountRefusal("57P03");
            owned = false;
            await ClientRefusal.SendAsync(AsSocket(clientFd), new Refusal("08001",
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
            if (owned)
                _ = LinuxNative.Close(clientFd);
            Interlocked.Decrement(ref _sessionsInFlight);
        }
    }

    /// <summary>A .NET socket for the rare client that gets a refusal instead of a relay; it owns the descriptor.</summary>
    private static Socket AsSocket(int fd) => new(new SafeSocketHandle(fd, ownsHandle: true));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        // No loop may poll the descriptor once it is closed (its number could be reused at once).
        if (_relayListener is not null)
            await _relayListener.StopAsync().ConfigureAwait(false);
        _socket?.Dispose();
        foreach (var s in _router.Servers.Servers)
            s.State.ShutdownSessions("PgGate is stopping");
        _stop.Dispose();
    }
}
