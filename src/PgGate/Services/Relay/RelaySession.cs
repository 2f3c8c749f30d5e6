using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using static PgGate.Services.Relay.LinuxNative;

namespace PgGate.Services.Relay;

/// <summary>
/// A byte relay between a client and a server socket, as HAProxy's TCP mode: whatever one side sends the
/// other receives, TLS included (PostgreSQL's SSLRequest and the handshake pass through untouched). When one
/// side finishes sending, the other side is told (half-close); when either fails, or the session is shut
/// down, both connections close.
/// <para>
/// The session lives on one <see cref="RelayLoop"/>: it connects to the server there (non-blocking, within a
/// deadline), then moves bytes as epoll reports them. Data goes from the loop's shared scratch buffer straight
/// to the other socket; only what the receiver cannot take yet is copied into a pooled buffer of the session's
/// own, and the sender is not read again until that is flushed (back-pressure). So an idle session holds no
/// buffer, and a message costs one receive and one send: a short receive means the socket is drained, which
/// edge-triggered epoll will report again, so no receive is spent on learning "nothing more".
/// </para>
/// </summary>
internal sealed unsafe class RelaySession : IServiceSession, ILoopWork, IValueTaskSource<SocketError>, IValueTaskSource
{
    private const uint SocketEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

    private readonly RelayLoop _loop;
    private readonly ServiceStats _stats;
    private readonly Lock _fdGate = new();
    private ManualResetValueTaskSourceCore<SocketError> _completion;
    private SessionState _state;
    private ulong _token;
    private bool _hasSlot;
    private int _serverFd = -1;
    private int _clientFd = -1;
    private bool _fdsClosed;
    private Flow _up;      // client → server
    private Flow _down;    // server → client
    private string? _shutdownReason;
    private SocketError _connectError;
    private int _connectErrno;
    private IPEndPoint? _connectTo;
    private CancellationTokenRegistration _cancelRegistration;

    public RelaySession(RelayLoop loop, ServiceStats stats)
    {
        _loop = loop;
        _stats = stats;
    }

    private enum SessionState
    {
        Idle,
        Connecting,
        Connected,
        Relaying,
        Closed,
    }

    /// <summary>Why the session was cut from outside, if it was.</summary>
    public string? ShutdownReason => Volatile.Read(ref _shutdownReason);

    /// <summary>When the connect in flight gives up (<see cref="Environment.TickCount64"/>).</summary>
    public long ConnectDeadline { get; private set; }

    /// <summary>The OS's words for the last failed connect (e.g. "Connection refused").</summary>
    public string ConnectErrorMessage => _connectError == SocketError.TimedOut
        ? "timed out"
        : Marshal.GetPInvokeErrorMessage(_connectErrno);

    /// <summary>Connects to the server; may be called again after a failure. Success is <see cref="SocketError.Success"/>.</summary>
    public ValueTask<SocketError> ConnectAsync(IPEndPoint server, long deadline, CancellationToken cancellationToken)
    {
        _completion.Reset();
        _connectTo = server;
        ConnectDeadline = deadline;
        if (cancellationToken.CanBeCanceled)
            _cancelRegistration = cancellationToken.UnsafeRegister(static s => ((RelaySession)s!).CancelConnect(), this);
        _loop.Execute(this, RelayCommand.Connect);
        return new ValueTask<SocketError>(this, _completion.Version);
    }

    /// <summary>
    /// Relays between the client (a non-blocking socket descriptor, which the session now owns) and the connected
    /// server until both sides end; then both are closed.
    /// </summary>
    public ValueTask RunAsync(int clientFd)
    {
        _completion.Reset();
        lock (_fdGate)
            _clientFd = clientFd;
        _loop.Execute(this, RelayCommand.Start);
        return new ValueTask(this, _completion.Version);
    }

    /// <summary>Ends the session now from any thread: both sockets are shut down here and closed by the loop.</summary>
    public void Shutdown(string reason)
    {
        if (Interlocked.CompareExchange(ref _shutdownReason, reason, null) is not null)
            return;
        _stats.CountShutdown();
        lock (_fdGate)
        {
            if (_fdsClosed)
                return;
            // Wakes the loop through epoll (both sockets report hang-up); a session not started yet sees the reason on start.
            if (_serverFd >= 0)
                _ = LinuxNative.Shutdown(_serverFd, SHUT_RDWR);
            if (_clientFd >= 0)
                _ = LinuxNative.Shutdown(_clientFd, SHUT_RDWR);
        }
    }

    public void Execute(RelayLoop loop, RelayCommand command)
    {
        switch (command)
        {
            case RelayCommand.Connect:
                StartConnect();
                break;
            case RelayCommand.Start:
                Start();
                break;
            case RelayCommand.CancelConnect:
                if (_state == SessionState.Connecting)
                    FailConnect(SocketError.OperationAborted, 0);
                break;
        }
    }

    public void OnEvents(uint events, bool client)
    {
        switch (_state)
        {
            case SessionState.Connecting:
                FinishConnect(events);
                return;
            case SessionState.Relaying:
                break;
            default:
                return;     // connected but not started: Start pumps whatever arrived meanwhile
        }
        if (Volatile.Read(ref _shutdownReason) is not null)
        {
            Close();
            return;
        }
        // With a hang-up or an error reported, a short receive does not mean "drained": the end or the error is still to be read.
        var untilEmpty = (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
        if (client)
        {
            if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0 && !Pump(ref _up, _clientFd, _serverFd, toServer: true, untilEmpty))
                return;
            if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0 && _down.HasPending)
                Flush(ref _down, _serverFd, _clientFd, toServer: false);
        }
        else
        {
            if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0 && !Pump(ref _down, _serverFd, _clientFd, toServer: false, untilEmpty))
                return;
            if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0 && _up.HasPending)
                Flush(ref _up, _clientFd, _serverFd, toServer: true);
        }
    }

    public void ConnectTimedOut() => FailConnect(SocketError.TimedOut, 0);

    public void RunCompletion()
    {
        var result = _state == SessionState.Connected ? SocketError.Success : _connectError;
        _completion.SetResult(result);
    }

    private void CancelConnect() => _loop.Post(this, RelayCommand.CancelConnect);

    private void StartConnect()
    {
        var to = _connectTo!;
        var family = to.AddressFamily == AddressFamily.InterNetworkV6 ? AF_INET6 : AF_INET;
        var fd = LinuxNative.Socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            FailConnect(SocketError.TooManyOpenSockets, Errno());
            return;
        }
        // Same socket options as the client side: no Nagle delay on small protocol messages; keepalive finds dead peers.
        _ = SetIntOption(fd, IPPROTO_TCP, TCP_NODELAY, 1);
        _ = SetIntOption(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
        _ = SetIntOption(fd, IPPROTO_TCP, TCP_KEEPIDLE, 30);
        _ = SetIntOption(fd, IPPROTO_TCP, TCP_KEEPINTVL, 10);
        _ = SetIntOption(fd, IPPROTO_TCP, TCP_KEEPCNT, 3);

        var address = stackalloc byte[28];
        var length = WriteSockAddr(to, address);
        lock (_fdGate)
            _serverFd = fd;
        _token = _loop.AllocateSlot(this);
        _hasSlot = true;
        _state = SessionState.Connecting;
        if (Connect(fd, address, length) < 0)
        {
            var errno = Errno();
            if (errno != EINPROGRESS)
            {
                FailConnect(SocketError.ConnectionRefused, errno);
                return;
            }
        }
        if (AddToEpoll(_loop.Epoll, fd, SocketEvents, _token) < 0)
        {
            FailConnect(SocketError.SocketError, Errno());
            return;
        }
        _loop.AddConnecting(this);
    }

    private void FinishConnect(uint events)
    {
        if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0)
            return;
        int error;
        var size = sizeof(int);
        if (GetSockOpt(_serverFd, SOL_SOCKET, SO_ERROR, &error, &size) < 0)
            error = Errno();
        if (error != 0)
        {
            FailConnect(SocketError.ConnectionRefused, error);
            return;
        }
        if ((events & EPOLLOUT) == 0)
            return;
        _loop.RemoveConnecting(this);
        _cancelRegistration.Dispose();
        _state = SessionState.Connected;
        _loop.CompleteLater(this);
    }

    private void FailConnect(SocketError error, int errno)
    {
        if (_state == SessionState.Connecting)
            _loop.RemoveConnecting(this);
        _cancelRegistration.Dispose();
        _connectError = error;
        _connectErrno = errno;
        int fd;
        lock (_fdGate)
        {
            fd = _serverFd;
            _serverFd = -1;
        }
        if (fd >= 0)
            _ = LinuxNative.Close(fd);
        if (_hasSlot)
            _loop.FreeSlot(_token);
        _hasSlot = false;
        _state = SessionState.Idle;
        _loop.CompleteLater(this);
    }

    private void Start()
    {
        _state = SessionState.Relaying;
        if (Volatile.Read(ref _shutdownReason) is not null || AddToEpoll(_loop.Epoll, _clientFd, SocketEvents, _token | 1) < 0)
        {
            Close();
            return;
        }
        // Whatever arrived before the start (the client's startup packet, usually) produced no new edge.
        if (Pump(ref _up, _clientFd, _serverFd, toServer: true, untilEmpty: true))
            Pump(ref _down, _serverFd, _clientFd, toServer: false, untilEmpty: true);
    }

    /// <summary>
    /// Moves what <paramref name="from"/> has to <paramref name="to"/>. A receive shorter than the buffer drained the
    /// socket, and edge-triggered epoll reports new data again, so it ends the pump unless <paramref name="untilEmpty"/>
    /// (edges were missed, or a hang-up may sit behind the data): then only EAGAIN does.
    /// </summary>
    /// <returns>False when the session closed.</returns>
    private bool Pump(ref Flow flow, int from, int to, bool toServer, bool untilEmpty)
    {
        if (flow.HasPending || flow.Eof)
            return true;    // the receiver is still behind; its EPOLLOUT resumes this flow
        var scratch = _loop.Scratch;
        while (true)
        {
            var n = Recv(from, scratch, RelayLoop.ScratchSize, 0);
            if (n > 0)
            {
                if (toServer)
                    _stats.AddBytesIn((int)n);
                else
                    _stats.AddBytesOut((int)n);
                var sent = LinuxNative.Send(to, scratch, n, MSG_NOSIGNAL);
                if (sent < 0)
                {
                    if (Errno() != EAGAIN)
                    {
                        Close();
                        return false;
                    }
                    sent = 0;
                }
                if (sent < n)
                {
                    flow.Keep(new ReadOnlySpan<byte>(scratch + sent, (int)(n - sent)));
                    return true;
                }
                if (n < RelayLoop.ScratchSize && !untilEmpty)
                    return true;
                continue;
            }
            if (n == 0)
            {
                // Clean end of one direction: pass the FIN on and let the other direction drain.
                flow.Eof = true;
                if (_up.Eof && _down.Eof)
                {
                    Close();
                    return false;
                }
                _ = LinuxNative.Shutdown(to, SHUT_WR);
                return true;
            }
            var errno = Errno();
            if (errno == EAGAIN)
                return true;
            if (errno == EINTR)
                continue;
            Close();
            return false;
        }
    }

    private bool Flush(ref Flow flow, int from, int to, bool toServer)
    {
        fixed (byte* pending = flow.Pending)
        {
            while (flow.Count > 0)
            {
                var sent = LinuxNative.Send(to, pending + flow.Offset, flow.Count, MSG_NOSIGNAL);
                if (sent < 0)
                {
                    var errno = Errno();
                    if (errno == EAGAIN)
                        return true;
                    if (errno == EINTR)
                        continue;
                    Close();
                    return false;
                }
                flow.Offset += (int)sent;
                flow.Count -= (int)sent;
            }
        }
        flow.Release();
        // The sender was not read while the receiver was behind, and edge-triggered epoll does not repeat itself.
        return Pump(ref flow, from, to, toServer, untilEmpty: true);
    }

    private void Close()
    {
        if (_state == SessionState.Closed)
            return;
        _state = SessionState.Closed;
        lock (_fdGate)
            _fdsClosed = true;
        // Closing removes both sockets from the epoll set; events already fetched for them fail the generation check.
        if (_serverFd >= 0)
            _ = LinuxNative.Close(_serverFd);
        if (_clientFd >= 0)
            _ = LinuxNative.Close(_clientFd);
        _up.Release();
        _down.Release();
        if (_hasSlot)
            _loop.FreeSlot(_token);
        _hasSlot = false;
        _loop.CompleteLater(this);
    }

    private static int WriteSockAddr(IPEndPoint endpoint, byte* buffer)
    {
        var port = (ushort)endpoint.Port;
        if (endpoint.AddressFamily == AddressFamily.InterNetworkV6)
        {
            new Span<byte>(buffer, 28).Clear();
            *(ushort*)buffer = AF_INET6;
            buffer[2] = (byte)(port >> 8);
            buffer[3] = (byte)port;
            _ = endpoint.Address.TryWriteBytes(new Span<byte>(buffer + 8, 16), out _);
            *(uint*)(buffer + 24) = (uint)endpoint.Address.ScopeId;
            return 28;
        }
        new Span<byte>(buffer, 16).Clear();
        *(ushort*)buffer = AF_INET;
        buffer[2] = (byte)(port >> 8);
        buffer[3] = (byte)port;
        _ = endpoint.Address.TryWriteBytes(new Span<byte>(buffer + 4, 4), out _);
        return 16;
    }

    SocketError IValueTaskSource<SocketError>.GetResult(short token) => _completion.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<SocketError>.GetStatus(short token) => _completion.GetStatus(token);

    void IValueTaskSource<SocketError>.OnCompleted(Action<object?> continuation, object? state, short token,
        ValueTaskSourceOnCompletedFlags flags) => _completion.OnCompleted(continuation, state, token, flags);

    void IValueTaskSource.GetResult(short token) => _completion.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _completion.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _completion.OnCompleted(continuation, state, token, flags);

    /// <summary>One direction: bytes the receiver could not take yet, and whether the sender has finished.</summary>
    private struct Flow
    {
        public byte[]? Pending;
        public int Offset;
        public int Count;
        public bool Eof;

        public readonly bool HasPending => Count > 0;

        public void Keep(ReadOnlySpan<byte> rest)
        {
            Pending = ArrayPool<byte>.Shared.Rent(rest.Length);
            rest.CopyTo(Pending);
            Offset = 0;
            Count = rest.Length;
        }

        public void Release()
        {
            if (Pending is not null)
                ArrayPool<byte>.Shared.Return(Pending);
            Pending = null;
            Offset = 0;
            Count = 0;
        }
    }
}
