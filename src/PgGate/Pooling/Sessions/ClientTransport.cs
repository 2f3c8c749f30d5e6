using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace PgGate.Pooling.Sessions;

/// <summary>
/// A client's byte stream: the socket itself, or TLS over it once the client asked for SSL. Only the session's own
/// loops read and write it; <see cref="ShutdownReceive"/> lets other threads wake a pending read to close the session.
/// </summary>
internal abstract class ClientTransport
{
    protected ClientTransport(Socket socket)
    {
        Socket = socket;
        RemoteEndPoint = socket.RemoteEndPoint;
        LocalEndPoint = socket.LocalEndPoint;
    }

    public Socket Socket { get; }

    public EndPoint? RemoteEndPoint { get; }

    public EndPoint? LocalEndPoint { get; }

    public abstract bool IsTls { get; }

    /// <summary>Completes when data (or end of stream) is available, holding no buffer meanwhile. The result means
    /// nothing (0 bytes are read); it is a ValueTask of the socket's own so that waiting allocates nothing.</summary>
    public abstract ValueTask<int> WaitForDataAsync();

    public abstract ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    public abstract ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>Makes a pending or later read return end-of-stream, while sends still work (to say goodbye).</summary>
    public void ShutdownReceive()
    {
        try
        {
            Socket.Shutdown(SocketShutdown.Receive);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    public virtual void Dispose() => Socket.Dispose();
}

internal sealed class SocketClientTransport : ClientTransport
{
    public SocketClientTransport(Socket socket)
        : base(socket)
    {
        InlineCompletions.Prefer(socket);

        // Sends and reads of data known to be there (after WaitForDataAsync) are tried as plain non-blocking calls
        // first: they nearly always complete at once, and then cost one syscall without the async machinery, and sends
        // never create the socket's cached send event args (~300 bytes kept per client). Only a full send buffer or an
        // empty socket takes the async path.
        socket.Blocking = false;
    }

    // Set by WaitForDataAsync: the next read finds data, so a plain non-blocking receive is worth trying first.
    private bool _dataSignalled;

    public override bool IsTls => false;

    public override ValueTask<int> WaitForDataAsync()
    {
        _dataSignalled = true;
        return Socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
    }

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!_dataSignalled)
        {
            // A read without a wait before it is the session reading on while its query runs: the client has almost never
            // sent more, and .NET's ReceiveAsync tries a receive itself before it waits, so a try here would be a second
            // EAGAIN per transaction (strace in docs/benchmarks.md, section 2).
            return Socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
        }

        _dataSignalled = false;
        var received = Socket.Receive(buffer.Span, SocketFlags.None, out var error);
        return error switch
        {
            SocketError.Success => new ValueTask<int>(received),
            SocketError.WouldBlock => Socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken),
            _ => ValueTask.FromException<int>(new SocketException((int)error)),
        };
    }

    public override ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        var sent = Socket.Send(data.Span, SocketFlags.None, out var error);
        if (error == SocketError.Success)
        {
            if (sent == data.Length)
            {
                return ValueTask.CompletedTask;
            }

            data = data.Slice(sent);
        }
        else if (error != SocketError.WouldBlock)
        {
            return ValueTask.FromException(new SocketException((int)error));
        }

        return SendRestAsync(data, cancellationToken);
    }

    private async ValueTask SendRestAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            var sent = await Socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data.Slice(sent);
        }
    }
}

internal sealed class TlsClientTransport(Socket socket, SslStream stream) : ClientTransport(socket)
{
    public SslStream Stream { get; } = stream;

    public override bool IsTls => true;

    public override ValueTask<int> WaitForDataAsync() => Stream.ReadAsync(Memory<byte>.Empty);

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Stream.ReadAsync(buffer, cancellationToken);

    public override ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        Stream.WriteAsync(data, cancellationToken);

    public override void Dispose()
    {
        Stream.Dispose();
        base.Dispose();
    }
}
