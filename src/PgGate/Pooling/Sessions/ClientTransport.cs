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

    /// <summary>Completes when data (or end of stream) is available, holding no buffer meanwhile.</summary>
    public abstract ValueTask WaitForDataAsync();

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
    }

    public override bool IsTls => false;

    public override async ValueTask WaitForDataAsync() =>
        await Socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);

    public override async ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
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

    public override async ValueTask WaitForDataAsync() =>
        await Stream.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);

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
