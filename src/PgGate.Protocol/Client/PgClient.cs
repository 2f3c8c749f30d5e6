using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace PgGate.Protocol.Client;

/// <summary>
/// A minimal PostgreSQL client for health probes and auth_query: protocol 3.0 over TCP or a Unix socket, trust,
/// cleartext, MD5 and SCRAM-SHA-256 authentication, simple queries and one-statement parameterised queries with text
/// results. One operation at a time. Cancelling an operation's token closes the connection, because its state is
/// unknown afterwards; a server error (<see cref="PgServerException"/>) leaves it usable.
/// </summary>
public sealed partial class PgClient : IAsyncDisposable
{
    private static readonly TimeSpan CancelCloseWait = TimeSpan.FromSeconds(5);

    private readonly Socket _socket;
    private readonly PgClientOptions _options;
    private readonly Dictionary<string, string> _serverParameters = new(StringComparer.Ordinal);
    private int _busy;
    private bool _broken;
    private bool _disposed;

    private PgClient(Socket socket, PgClientOptions options)
    {
        _socket = socket;
        _options = options;
        RemoteEndPoint = socket.RemoteEndPoint!;
    }

    public PgClientOptions Options => _options;

    /// <summary>The address actually connected to (one of the host's addresses, or the Unix socket path).</summary>
    public EndPoint RemoteEndPoint { get; }

    /// <summary>Server settings reported by ParameterStatus (server_version, in_hot_standby, ...), kept up to date.</summary>
    public IReadOnlyDictionary<string, string> ServerParameters => _serverParameters;

    /// <summary>The backend's process id from BackendKeyData (0 if the server sent none).</summary>
    public int ProcessId { get; private set; }

    /// <summary>The cancel key from BackendKeyData (empty if the server sent none).</summary>
    public byte[] SecretKey { get; private set; } = [];

    /// <summary>The transaction status of the last ReadyForQuery.</summary>
    public TransactionStatus TransactionStatus { get; private set; } = TransactionStatus.Idle;

    /// <summary>True once the connection failed, was cancelled or disposed; such a client cannot be used again.</summary>
    public bool IsBroken => _broken || _disposed;

    /// <summary>Connects, authenticates and waits for the first ReadyForQuery, all within <see cref="PgClientOptions.ConnectTimeout"/>.</summary>
    /// <exception cref="TimeoutException">The connect timeout elapsed.</exception>
    /// <exception cref="PgServerException">The server refused the connection (wrong password, unknown database...).</exception>
    /// <exception cref="PgConnectionException">The server could not be reached or the connection was lost.</exception>
    /// <exception cref="PgProtocolException">The server broke the protocol.</exception>
    public static async Task<PgClient> ConnectAsync(PgClientOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ConnectTimeout <= TimeSpan.Zero && options.ConnectTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ConnectTimeout, "ConnectTimeout must be positive or Timeout.InfiniteTimeSpan.");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        PgClient? client = null;
        try
        {
            var socket = await OpenSocketAsync(options.Host, options.Port, timeout.Token).ConfigureAwait(false);
            client = new PgClient(socket, options);
            await client.StartupAsync(timeout.Token).ConfigureAwait(false);
            return client;
        }
        catch (OperationCanceledException e) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            client?.Abort();
            throw new TimeoutException(
                string.Create(CultureInfo.InvariantCulture,
                    $"Connecting to PostgreSQL at {options.Describe()} as \"{options.User}\" timed out after {options.ConnectTimeout.TotalSeconds:0.###} s. ") +
                "Check that the server is up and reachable there, or raise the connect timeout.", e);
        }
        catch
        {
            client?.Abort();
            throw;
        }
    }

    /// <summary>Asks the server to cancel the query running on this connection (over a new connection).</summary>
    public Task CancelAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (SecretKey.Length == 0)
        {
            throw new InvalidOperationException("The server sent no BackendKeyData for this connection, so it cannot be cancelled.");
        }

        return SendCancelRequestAsync(RemoteEndPoint, ProcessId, SecretKey, cancellationToken);
    }

    /// <summary>
    /// Sends a CancelRequest for <paramref name="processId"/> to the server at <paramref name="host"/>:<paramref name="port"/>
    /// and waits (at most 5 s) until the server has closed that connection, i.e. has handled the request. The server
    /// never says whether a query was actually cancelled.
    /// </summary>
    public static async Task CancelAsync(
        string host, int port, int processId, ReadOnlyMemory<byte> secretKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        var endPoints = await ResolveAsync(host, port, cancellationToken).ConfigureAwait(false);
        await SendCancelRequestAsync(endPoints[0], processId, secretKey, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends Terminate (best effort) and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        if (!_broken && Interlocked.CompareExchange(ref _busy, 1, 0) == 0)
        {
            try
            {
                FrontendMessageWriter.WriteTerminate(_writeBuffer);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                await FlushAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The server may already be gone; closing the socket is all that is left to do.
            }
        }

        _disposed = true;
        Abort();
    }

    private static async Task SendCancelRequestAsync(
        EndPoint endPoint, int processId, ReadOnlyMemory<byte> secretKey, CancellationToken cancellationToken)
    {
        var request = new ArrayBufferWriter<byte>(16);
        FrontendMessageWriter.WriteCancelRequest(request, processId, secretKey.Span);
        using var socket = await ConnectSocketAsync(endPoint, cancellationToken).ConfigureAwait(false);
        try
        {
            await socket.SendAsync(request.WrittenMemory, SocketFlags.None, cancellationToken).ConfigureAwait(false);

            // PostgreSQL answers nothing and closes the connection once the request is handled. Waiting for that tells
            // the caller the cancel has landed; the cap keeps a peer that never closes from holding a token-less caller.
            using var closeWait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            closeWait.CancelAfter(CancelCloseWait);
            var sink = new byte[64];
            try
            {
                while (await socket.ReceiveAsync(sink, SocketFlags.None, closeWait.Token).ConfigureAwait(false) > 0)
                {
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
        }
        catch (SocketException e) when (!cancellationToken.IsCancellationRequested)
        {
            if (e.SocketErrorCode != SocketError.ConnectionReset)
            {
                throw new PgConnectionException($"Sending a cancel request to {endPoint} failed: {e.Message}.", e);
            }
        }
    }

    private void Abort()
    {
        _broken = true;
        _socket.Dispose();
    }
}
