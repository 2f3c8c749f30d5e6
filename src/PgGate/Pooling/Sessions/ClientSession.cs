using System.Buffers;
using System.Net.Sockets;
using PgGate.Pooling.Statements;
using PgGate.Protocol;

namespace PgGate.Pooling.Sessions;

/// <summary>Where a client is (PgBouncer's client lists, for SHOW CLIENTS).</summary>
internal enum ClientState : byte
{
    Login,

    /// <summary>Logged in, no server linked (PgBouncer shows these as active too).</summary>
    Idle,

    /// <summary>A server is linked.</summary>
    Active,

    /// <summary>Waiting for a server connection (cl_waiting).</summary>
    Waiting,

    Closed,
}

/// <summary>
/// One client of the pooler, from its first byte to its last. After login a single read loop takes the client's
/// messages, links a server from the pool when a request needs one (waiting in the pool's queue if necessary) and
/// forwards the messages; the linked server's own read loop sends the answers back and unlinks the server when the
/// transaction (or statement, or session) is over. Both loops change the session's state under <see cref="Gate"/>;
/// everything sent to the client goes through one writer at a time, in the order it was produced.
/// </summary>
internal sealed partial class ClientSession
{
    private const int ReadBufferSize = 8 * 1024;
    private static long s_nextId;

    private readonly OutboundBuffer _toServer = new();
    private ServerConnection? _server;
    private ServerPool? _pool;
    private ServerWaiter? _waiter;

    // Request stream state (under Gate).
    private bool _extendedOpen;
    private bool _sendingToServer;
    private bool _skipUntilSync;
    private int _forwardRemaining;
    private bool _forwardDrop;
    private int _neededBufferSize;

    // Prepared statements (under Gate).
    private ClientStatementMap? _statements;
    private byte[]? _unnamedBody;
    private int _unnamedBodyLength = -1;

    // Client writer (under Gate): one sender at a time, later output queued in order.
    private bool _writing;
    private OutboundBuffer? _queuedOutput;
    private bool _clientGone;

    // Closing from outside (timeouts, KILL): the read loop says goodbye with this error.
    private string? _closeSqlState;
    private string? _closeMessage;
    private bool _closing;

    // Statistics and timers (timestamps of the pooler's TimeProvider; 0 = not running).
    private long _requestStartedAt;
    private long _transactionStartedAt;

    public ClientSession(Pooler pooler, ClientTransport transport, IBackendResolver resolver)
    {
        Id = Interlocked.Increment(ref s_nextId);
        Pooler = pooler;
        Transport = transport;
        Resolver = resolver;
        ConnectedAt = pooler.Time.GetTimestamp();
        LastActivityAt = ConnectedAt;
    }

    public long Id { get; }

    public Pooler Pooler { get; }

    public ClientTransport Transport { get; private set; }

    public IBackendResolver Resolver { get; }

    public Lock Gate { get; } = new();

    public ClientState State { get; private set; } = ClientState.Login;

    public string User { get; private set; } = string.Empty;

    public string DatabaseName { get; private set; } = string.Empty;

    public PoolerDatabase? Database { get; private set; }

    public PoolMode Mode { get; private set; }

    /// <summary>The process id and key this client got in BackendKeyData (the pooler's own, not a server's).</summary>
    public int CancelProcessId { get; private set; }

    public byte[] CancelKey { get; private set; } = [];

    /// <summary>The reported parameters as this client knows them.</summary>
    public ParameterSet Parameters { get; private set; } = ParameterSet.Empty;

    public string? ApplicationName => Parameters.Get("application_name");

    public long ConnectedAt { get; }

    /// <summary>When the client last sent something or got its last answer.</summary>
    public long LastActivityAt { get; private set; }

    /// <summary>The linked server (read without the lock by SHOW CLIENTS).</summary>
    public ServerConnection? Server => _server;

    /// <summary>The pool of the linked or last linked server.</summary>
    public ServerPool? CurrentPool => _pool;

    /// <summary>A cancel request from this client is being forwarded (cl_active_cancel_req).</summary>
    public bool CancelInFlight { get; set; }

    /// <summary>Counters of the pool the client uses now.</summary>
    public PoolStats Stats => _pool?.Stats ?? Pooler.UnpooledStats;

    public long WaitStartedAt => _waiter?.EnqueuedAt ?? 0;

    private bool TrackStatements => Mode != PoolMode.Session && Pooler.Settings.MaxPreparedStatements > 0;

    /// <summary>Runs the whole session: login, then requests until the client leaves or is closed.</summary>
    public async Task RunAsync()
    {
        try
        {
            if (await LoginAsync().ConfigureAwait(false))
            {
                await (IsConsole ? ServeConsoleAsync() : ServeAsync()).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException or OperationCanceledException)
        {
            // The client went away or PgGate is stopping; cleanup follows.
        }
        catch (Exception e)
        {
            // Never let one client take the process down.
            Pooler.LogSessionFailed(this, e);
        }
        finally
        {
            await CleanupAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Asks the session to end with a FATAL <paramref name="message"/> (client_idle_timeout, KILL...): wakes its
    /// read loop, which sends the message and cleans up.</summary>
    public void RequestClose(string sqlState, string message)
    {
        lock (Gate)
        {
            if (_closing)
            {
                return;
            }

            _closing = true;
            _closeSqlState = sqlState;
            _closeMessage = message;
        }

        Transport.ShutdownReceive();
        if (_waiter is { } waiter)
        {
            if (waiter.Pool is { } pool && pool.TryRemoveWaiter(waiter))
            {
                waiter.Fail(sqlState, message);
            }
            else if (waiter.WaitsForBackend && Pooler.TryRemoveBackendWaiter(waiter))
            {
                waiter.Fail(sqlState, message);
            }
        }
    }

    /// <summary>The read loop after login.</summary>
    private async Task ServeAsync()
    {
        // Bytes the client pipelined behind its login are processed first.
        var buffer = _initialBuffer;
        var count = _initialCount;
        var pending = count > 0;
        _initialBuffer = null;
        try
        {
            while (true)
            {
                if (!pending)
                {
                    if (count == 0 && _server is null)
                    {
                        // Idle between transactions: hold no buffer (this is what keeps 10,000 idle clients cheap).
                        if (buffer is not null)
                        {
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = null;
                        }

                        State = ClientState.Idle;
                        await Transport.WaitForDataAsync().ConfigureAwait(false);
                    }

                    buffer ??= ArrayPool<byte>.Shared.Rent(ReadBufferSize);
                    if (count == buffer.Length)
                    {
                        buffer = Grow(buffer, count, Math.Max(_neededBufferSize, buffer.Length * 2));
                    }

                    var received = await Transport.ReceiveAsync(buffer.AsMemory(count)).ConfigureAwait(false);
                    if (received == 0)
                    {
                        return;
                    }

                    LastActivityAt = Pooler.Time.GetTimestamp();
                    Stats.AddReceived(received);
                    count += received;
                }

                pending = false;
                var consumed = await ProcessAsync(buffer!, count).ConfigureAwait(false);
                if (consumed < 0)
                {
                    return;
                }

                count -= consumed;
                if (count > 0)
                {
                    Buffer.BlockCopy(buffer!, consumed, buffer!, 0, count);
                    if (_neededBufferSize > buffer!.Length)
                    {
                        buffer = Grow(buffer, count, _neededBufferSize);
                    }
                }
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static byte[] Grow(byte[] buffer, int count, int size)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(size);
        Buffer.BlockCopy(buffer, 0, bigger, 0, count);
        ArrayPool<byte>.Shared.Return(buffer);
        return bigger;
    }

    /// <summary>Processes the received bytes: links servers as needed, forwards, answers locally what must be.
    /// Returns the bytes consumed, or -1 to end the session.</summary>
    private async ValueTask<int> ProcessAsync(byte[] buffer, int count)
    {
        var position = 0;
        while (true)
        {
            RequestStep step;
            ServerConnection? target;
            lock (Gate)
            {
                step = ProcessRequests(buffer, ref position, count);
                target = _server;
            }

            switch (step.Kind)
            {
                case RequestStepKind.NeedServer:
                    if (!await LinkServerAsync().ConfigureAwait(false))
                    {
                        return -1;
                    }

                    continue;
                case RequestStepKind.Reply:
                    // Answered by the pooler itself (no server could be had for the request).
                    await WriteToClientAsync(step.Reply).ConfigureAwait(false);
                    continue;
                case RequestStepKind.LocalReadyForQuery:
                    await WriteToClientAsync(ReadyForQueryIdle).ConfigureAwait(false);
                    continue;
                case RequestStepKind.Terminate:
                    await FlushToServerAsync(target).ConfigureAwait(false);
                    return -1;
                case RequestStepKind.Fatal:
                    await FlushToServerAsync(target).ConfigureAwait(false);
                    await SendFatalAsync(step.SqlState!, step.Message!).ConfigureAwait(false);
                    return -1;
            }

            // Done or NeedMoreData: send what was gathered, then read more.
            await FlushToServerAsync(target).ConfigureAwait(false);
            return position;
        }
    }

    private static readonly byte[] ReadyForQueryIdle = [BackendMessageCode.ReadyForQuery, 0, 0, 0, 5, (byte)TransactionStatus.Idle];

    /// <summary>Sends what was gathered for the linked server, then lets the server go if the transaction is over.</summary>
    private async ValueTask FlushToServerAsync(ServerConnection? server)
    {
        if (!_toServer.IsEmpty && server is not null)
        {
            await server.SendAsync(_toServer.GetWritten()).ConfigureAwait(false);
        }

        _toServer.Reset();
        bool release;
        lock (Gate)
        {
            _sendingToServer = false;
            release = server is not null && TryUnlink(server);
        }

        if (release)
        {
            server!.Pool.Release(server, this);
        }
    }

    /// <summary>Links a server for the request at hand; false when the session must end.</summary>
    private async ValueTask<bool> LinkServerAsync()
    {
        var server = await AcquireServerAsync().ConfigureAwait(false);
        if (server is null)
        {
            lock (Gate)
            {
                if (_closing)
                {
                    return false;
                }

                _pendingFailure = (_waiter?.FailureSqlState ?? SqlState.ConnectionFailure, _waiter?.FailureMessage ?? "no server connection available", _waiter?.FailureDetail);
            }

            return true;
        }

        lock (Gate)
        {
            if (_closing)
            {
                // Closed while waiting: give the server straight back.
                server.Client = null;
                _ = ReleaseUnusedAsync(server);
                return false;
            }

            Link(server);
        }

        return true;
    }

    private Task ReleaseUnusedAsync(ServerConnection server)
    {
        server.Pool.Release(server, this);
        return Task.CompletedTask;
    }

    /// <summary>Set when the last server request failed; the next ProcessRequests answers the request with it.</summary>
    private (string SqlState, string Message, string? Detail)? _pendingFailure;

    /// <summary>Writes bytes to the client through the single-writer queue (for the read loop's own answers).</summary>
    private async ValueTask WriteToClientAsync(ReadOnlyMemory<byte> bytes)
    {
        bool send;
        lock (Gate)
        {
            send = ClaimWriter(bytes.Span);
        }

        if (send)
        {
            await SendAndDrainAsync(bytes).ConfigureAwait(false);
        }
    }

    /// <summary>Under <see cref="Gate"/>: true when the caller may send now; otherwise the bytes are queued (copied).</summary>
    internal bool ClaimWriter(ReadOnlySpan<byte> bytes)
    {
        if (_clientGone)
        {
            return false;
        }

        if (!_writing)
        {
            _writing = true;
            return true;
        }

        (_queuedOutput ??= new OutboundBuffer()).Write(bytes);
        return false;
    }

    /// <summary>Sends <paramref name="bytes"/> (the caller holds the writer role), then whatever others queued meanwhile.</summary>
    internal async ValueTask SendAndDrainAsync(ReadOnlyMemory<byte> bytes)
    {
        OutboundBuffer? drained = null;
        try
        {
            while (true)
            {
                try
                {
                    await Transport.SendAsync(bytes).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
                {
                    lock (Gate)
                    {
                        _clientGone = true;
                        _writing = false;
                        _queuedOutput?.Reset();
                    }

                    Transport.ShutdownReceive();
                    return;
                }

                drained?.Reset();
                lock (Gate)
                {
                    if (_queuedOutput is null || _queuedOutput.IsEmpty)
                    {
                        _writing = false;
                        return;
                    }

                    // Swap the queue out and send it; producers start a fresh one.
                    drained = _queuedOutput;
                    _queuedOutput = null;
                }

                bytes = drained.GetWritten();
            }
        }
        finally
        {
            drained?.Reset();
        }
    }

    private async ValueTask SendFatalAsync(string sqlState, string message, string? detail = null, string? hint = null)
    {
        var writer = new ArrayBufferWriter<byte>(256);
        BackendMessageWriter.WriteErrorResponse(writer, ErrorSeverity.Fatal, sqlState, message, detail, hint);
        try
        {
            await WriteToClientAsync(writer.WrittenMemory).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
        }
    }

    /// <summary>The session is over: give back or close the server, forget the client's statements, say goodbye if asked.</summary>
    private async Task CleanupAsync()
    {
        ServerConnection? server;
        string? rollback = null;
        var dirty = false;
        string? closeSqlState;
        string? closeMessage;
        lock (Gate)
        {
            _closing = true;
            State = ClientState.Closed;
            server = _server;
            if (server is not null)
            {
                var quiet = server.Requests.IsEmpty && !_extendedOpen && _forwardRemaining == 0 && !_sendingToServer;
                if (!quiet)
                {
                    // Mid-request: the server's state is unknown, so it is not handed to anyone again.
                    dirty = true;
                }
                else if (server.TransactionStatus != TransactionStatus.Idle)
                {
                    rollback = "ROLLBACK";
                }

                _server = null;
                server.Client = null;
                if (ReferenceEquals(server.UnnamedOwner, this))
                {
                    server.UnnamedOwner = null;
                }
            }

            _statements?.Clear(Pooler.Statements);
            _statements = null;
            closeSqlState = _closeSqlState;
            closeMessage = _closeMessage;
        }

        if (_waiter is { } waiter)
        {
            if (waiter.Pool is { } pool && pool.TryRemoveWaiter(waiter))
            {
                waiter.Fail(SqlState.AdminShutdown, "client closed");
            }
            else if (waiter.WaitsForBackend && Pooler.TryRemoveBackendWaiter(waiter))
            {
                waiter.Fail(SqlState.AdminShutdown, "client closed");
            }
        }

        if (server is not null)
        {
            if (dirty)
            {
                // The query may run on for a long time otherwise: PostgreSQL notices a closed socket only when it writes.
                Pooler.CancelAndClose(server, "the client left in the middle of a request");
            }
            else
            {
                server.Pool.Release(server, this, rollback);
            }
        }

        if (closeMessage is not null)
        {
            await SendFatalAsync(closeSqlState!, closeMessage).ConfigureAwait(false);
        }

        _toServer.Reset();
        Pooler.Unregister(this);
        Transport.Dispose();
    }
}
