using System.Buffers;
using System.Net;
using System.Net.Sockets;
using PgGate.Pooling.Statements;
using PgGate.Protocol;

namespace PgGate.Pooling.Sessions;

/// <summary>Where a server connection is in its life (PgBouncer's server lists).</summary>
internal enum ServerConnectionState : byte
{
    /// <summary>Connecting and logging in (sv_login).</summary>
    Login,

    /// <summary>In the pool, free (sv_idle).</summary>
    Idle,

    /// <summary>Linked to a client (sv_active).</summary>
    Active,

    /// <summary>Released, running ROLLBACK or the reset query before it may be reused (sv_used).</summary>
    Resetting,

    Closed,
}

/// <summary>
/// One connection from the pooler to a PostgreSQL server. It runs a read loop for its whole life: while a client is
/// linked, the loop passes the server's messages to that client (dropping or rewriting the answers to requests the
/// pooler made itself); while it is idle, the loop notices a server that goes away or speaks out of turn.
/// </summary>
internal sealed partial class ServerConnection
{
    private const int ReadBufferSize = 16 * 1024;
    private static long s_nextId;

    private readonly Socket _socket;
    private readonly OutboundBuffer _toClient = new();
    private int _closed;

    private ServerConnection(ServerPool pool, BackendEndpoint backend, Socket socket, ServerLoginResult login, long now)
    {
        Id = Interlocked.Increment(ref s_nextId);
        Pool = pool;
        Backend = backend;
        _socket = socket;
        Parameters = login.Parameters;
        ProcessId = login.ProcessId;
        SecretKey = login.SecretKey;
        ConnectedAt = now;
        LastUsedAt = now;
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;

        // Logged in: from now on sends are tried as plain non-blocking calls first (see SendAsync).
        socket.Blocking = false;
    }

    public long Id { get; }

    public ServerPool Pool { get; }

    public BackendEndpoint Backend { get; }

    public EndPoint? LocalEndPoint { get; }

    public EndPoint? RemoteEndPoint { get; }

    public int ProcessId { get; }

    public byte[] SecretKey { get; }

    /// <summary>The server's reported parameters as it has them now (changed by SET, DISCARD ALL...).</summary>
    public ParameterSet Parameters { get; set; }

    public TransactionStatus TransactionStatus { get; private set; } = TransactionStatus.Idle;

    /// <summary>Requests sent whose answers have not fully arrived.</summary>
    public RequestQueue Requests { get; } = new();

    /// <summary>The pooler's statements prepared on this server; null until the first one.</summary>
    public ServerStatementCache? Statements { get; set; }

    /// <summary>The client whose unnamed prepared statement this server holds, if any.</summary>
    public ClientSession? UnnamedOwner { get; set; }

    /// <summary>The linked client (under that client's lock).</summary>
    public ClientSession? Client { get; set; }

    public ServerConnectionState State { get; set; } = ServerConnectionState.Idle;

    /// <summary>Timestamps from the pooler's <see cref="TimeProvider"/>.</summary>
    public long ConnectedAt { get; }

    public long LastUsedAt { get; set; }

    /// <summary>Set when the connection must not be reused: it is closed when released (RECONNECT, lifetime, a backend
    /// that left the service, a session left in a state the pooler cannot clean).</summary>
    public bool CloseNeeded { get; set; }

    /// <summary>Opened ahead of a promotion and not yet handed to a client: a paused pool keeps it (see ServerPool.Prewarm).</summary>
    public bool AwaitsFirstClient { get; set; }

    /// <summary>Cancel requests sent for this connection's backend that have not completed: until they have, the
    /// connection is not handed to another client, whose query the cancel could otherwise hit.</summary>
    public int CancelsInFlight;

    /// <summary>Released while a cancel was in flight: goes back to the pool when the last cancel completes.</summary>
    public bool ReleaseAfterCancel { get; set; }

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    public string? CloseReason { get; private set; }

    /// <summary>Index in the pool's list of connections (for O(1) removal), under the pool's lock.</summary>
    internal int PoolIndex { get; set; } = -1;

    /// <summary>Connects and logs in within <paramref name="timeout"/> (server_connect_timeout).</summary>
    public static async Task<ServerConnection> OpenAsync(
        ServerPool pool, BackendEndpoint backend, string database, ServerCredentials credentials, TimeSpan timeout, TimeProvider time,
        CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout > TimeSpan.Zero)
        {
            cts.CancelAfter(timeout);
        }

        Socket? socket = null;
        try
        {
            socket = await ServerSocket.ConnectAsync(backend, cts.Token).ConfigureAwait(false);
            var login = await ServerLogin.LoginAsync(socket, backend, database, credentials, cts.Token).ConfigureAwait(false);
            return new ServerConnection(pool, backend, socket, login, time.GetTimestamp());
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            socket?.Dispose();
            throw new ServerLoginException(
                $"connecting to PostgreSQL at {backend} as \"{credentials.User}\" timed out after {timeout.TotalSeconds:0.###} s " +
                "(server_connect_timeout); check that the server is up and reachable", null, e);
        }
        catch (SocketException e)
        {
            socket?.Dispose();
            throw new ServerLoginException($"could not connect to PostgreSQL at {backend}: {e.Message}", null, e);
        }
        catch
        {
            socket?.Dispose();
            throw;
        }
    }

    /// <summary>Sends bytes the pooler or a client produced. Errors close the connection; the read loop reports the loss.
    /// A plain non-blocking send is tried first: it nearly always takes everything, for one syscall and no async state.</summary>
    public ValueTask<bool> SendAsync(ReadOnlyMemory<byte> data)
    {
        int sent;
        SocketError error;
        try
        {
            sent = _socket.Send(data.Span, SocketFlags.None, out error);
        }
        catch (ObjectDisposedException e)
        {
            Close("sending to the server failed: " + e.Message);
            return new ValueTask<bool>(false);
        }

        if (error == SocketError.Success)
        {
            if (sent == data.Length)
            {
                return new ValueTask<bool>(true);
            }

            data = data.Slice(sent);
        }
        else if (error != SocketError.WouldBlock)
        {
            Close("sending to the server failed: " + new SocketException((int)error).Message);
            return new ValueTask<bool>(false);
        }

        return SendRestAsync(data);
    }

    private async ValueTask<bool> SendRestAsync(ReadOnlyMemory<byte> data)
    {
        try
        {
            while (!data.IsEmpty)
            {
                var sent = await _socket.SendAsync(data, SocketFlags.None).ConfigureAwait(false);
                data = data.Slice(sent);
            }

            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Close("sending to the server failed: " + e.Message);
            return false;
        }
    }

    /// <summary>Closes the socket (the read loop then ends and tells the pool). Idempotent.</summary>
    public void Close(string reason)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        CloseReason = reason;
        try
        {
            // Terminate is a courtesy; a server that sees only the close logs "unexpected EOF on client connection".
            if (_socket.Connected)
            {
                // Never block here: a server that does not read just misses the courtesy.
                _socket.Blocking = false;
                ReadOnlySpan<byte> terminate = [FrontendMessageCode.Terminate, 0, 0, 0, 4];
                _socket.Send(terminate, SocketFlags.None, out _);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }

        _socket.Dispose();
    }

    /// <summary>The read loop; runs from login until the connection closes. Unlike a client, a server keeps its read
    /// buffer while idle: servers are few, and a zero-byte wait would cost an extra wake-up per transaction.</summary>
    public async Task RunAsync()
    {
        byte[]? buffer = null;
        var count = 0;
        string reason = "the server closed the connection";
        try
        {
            while (true)
            {
                buffer ??= ArrayPool<byte>.Shared.Rent(ReadBufferSize);
                if (count == buffer.Length)
                {
                    buffer = Grow(buffer, count, Math.Max(_neededBufferSize, buffer.Length * 2));
                }

                var received = await _socket.ReceiveAsync(buffer.AsMemory(count), SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    break;
                }

                count += received;
                var consumed = await DispatchAsync(buffer, count).ConfigureAwait(false);
                if (consumed < 0)
                {
                    reason = CloseReason ?? "protocol error";
                    break;
                }

                count -= consumed;
                if (count > 0)
                {
                    Buffer.BlockCopy(buffer, consumed, buffer, 0, count);
                    if (_neededBufferSize > buffer.Length)
                    {
                        buffer = Grow(buffer, count, _neededBufferSize);
                    }
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            reason = CloseReason ?? "the connection to the server failed: " + e.Message;
        }
        catch (ServerProtocolException e)
        {
            reason = e.Message;
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            _toClient.Reset();
        }

        if (FatalError is { } fatal && CloseReason is null)
        {
            reason = (Backend.Name ?? Backend.ToString()) + " ended the connection: " + fatal;
        }

        Close(CloseReason ?? reason);
        OnLost(CloseReason ?? reason);
    }

    private static byte[] Grow(byte[] buffer, int count, int size)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(size);
        Buffer.BlockCopy(buffer, 0, bigger, 0, count);
        ArrayPool<byte>.Shared.Return(buffer);
        return bigger;
    }

    /// <summary>Processes received bytes; returns how many were consumed, or -1 when the connection must close.</summary>
    private async ValueTask<int> DispatchAsync(byte[] buffer, int count)
    {
        var client = Client;
        if (client is null)
        {
            // Resetting after a client left, or an idle server speaking on its own.
            var consumed = ProcessResponses(buffer, 0, count, null, _toClient);
            _toClient.Reset();
            if (State == ServerConnectionState.Resetting && Requests.IsEmpty && _messageRemaining == 0)
            {
                Pool.FinishReset(this);
            }
            else if (State == ServerConnectionState.Idle && consumed > 0 && Requests.IsEmpty && !IsClosed)
            {
                // Only ParameterStatus and notices are harmless here; ProcessResponses closed the connection otherwise.
                LastUsedAt = Pool.Pooler.Time.GetTimestamp();
            }

            return IsClosed ? -1 : consumed;
        }

        int processed;
        var claimed = false;
        lock (client.Gate)
        {
            if (!ReferenceEquals(Client, client))
            {
                // Unlinked meanwhile (the client left): process again as an unlinked server.
                processed = -2;
            }
            else
            {
                processed = ProcessResponses(buffer, 0, count, client, _toClient);
                if (!_toClient.IsEmpty)
                {
                    // One writer at a time: if another is sending, the bytes are queued (copied) behind it.
                    claimed = client.ClaimWriter(_toClient.GetWritten().Span);
                }
            }
        }

        if (processed == -2)
        {
            return await DispatchAsync(buffer, count).ConfigureAwait(false);
        }

        if (claimed)
        {
            var written = _toClient.GetWritten();
            client.Stats.AddSent(written.Length);
            await client.SendAndDrainAsync(written).ConfigureAwait(false);
        }

        _toClient.Reset();
        if (IsClosed)
        {
            return -1;
        }

        bool release;
        lock (client.Gate)
        {
            release = client.TryUnlinkAfterResponse(this);
        }

        if (release)
        {
            Pool.Release(this, client);
        }

        return processed;
    }

    /// <summary>The server went away (or was closed): tell the linked client, or the pool.</summary>
    private void OnLost(string reason)
    {
        State = ServerConnectionState.Closed;
        var client = Client;
        if (client is not null)
        {
            client.OnServerLost(this, reason);
        }

        Pool.Remove(this, reason);
    }
}

/// <summary>A server broke the protocol; the connection is closed.</summary>
internal sealed class ServerProtocolException(string message) : Exception(message);
