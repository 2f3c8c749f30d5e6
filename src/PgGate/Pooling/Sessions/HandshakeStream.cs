using System.Net.Sockets;

namespace PgGate.Pooling.Sessions;

/// <summary>
/// The socket stream under a client's SslStream. While the TLS handshake runs, every read continues on the thread pool:
/// with inline socket completions the handshake's public-key cryptography would otherwise run on the socket engine's
/// thread and stall every other connection. After the handshake it is a plain pass-through.
/// </summary>
internal sealed class HandshakeStream(Socket socket) : NetworkStream(socket, ownsSocket: false)
{
    public bool HopToThreadPool { get; set; } = true;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await base.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (HopToThreadPool)
        {
            await Task.Yield();
        }

        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
}
