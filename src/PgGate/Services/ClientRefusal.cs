using System.Buffers;
using System.Net.Sockets;
using PgGate.Protocol;

namespace PgGate.Services;

/// <summary>
/// Tells a client it cannot be served, in PostgreSQL's words: PgGate reads the client's startup packet
/// (declining TLS/GSS first, since nothing will follow) and answers a FATAL ErrorResponse with a
/// SQLSTATE and the reason, so libpq and drivers show "service pg-test-primary has no server up ..."
/// instead of "server closed the connection unexpectedly".
/// </summary>
public static class ClientRefusal
{
    private static readonly TimeSpan StartupWait = TimeSpan.FromSeconds(2);

    public static async Task SendAsync(Socket client, Refusal refusal, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(StartupWait);
        var buffer = ArrayPool<byte>.Shared.Rent(ProtocolConstants.MaxStartupPacketLength);
        try
        {
            // At most: SSLRequest, GSSENCRequest, then the StartupMessage.
            for (var packet = 0; packet < 3; packet++)
            {
                var length = 0;
                StartupParseResult parsed;
                while (true)
                {
                    parsed = StartupPacketParser.Parse(buffer.AsSpan(0, length));
                    if (parsed.Status != StartupParseStatus.NeedMoreData)
                        break;
                    var n = await client.ReceiveAsync(buffer.AsMemory(length, ProtocolConstants.MaxStartupPacketLength - length), SocketFlags.None, cts.Token)
                        .ConfigureAwait(false);
                    if (n == 0)
                        return;
                    length += n;
                }

                if (parsed.Kind is StartupPacketKind.SslRequest or StartupPacketKind.GssEncRequest && parsed.IsOk)
                {
                    await client.SendAsync(new[] { (byte)'N' }, SocketFlags.None, cts.Token).ConfigureAwait(false);
                    continue;
                }
                if (parsed.Kind == StartupPacketKind.CancelRequest)
                    return;     // a cancel gets no answer in the protocol

                var writer = new ArrayBufferWriter<byte>(256);
                BackendMessageWriter.WriteErrorResponse(writer, ErrorSeverity.Fatal, refusal.SqlState, refusal.Message, refusal.Detail, refusal.Hint);
                await client.SendAsync(writer.WrittenMemory, SocketFlags.None, cts.Token).ConfigureAwait(false);
                return;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // A client that sends nothing, or goes away, just gets closed.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            try
            {
                client.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }
            client.Dispose();
        }
    }
}
