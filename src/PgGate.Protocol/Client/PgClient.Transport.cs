using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace PgGate.Protocol.Client;

/// <summary>Socket set-up, buffered message reads and writes.</summary>
public sealed partial class PgClient
{
    private const int InitialReadBufferSize = 8192;

    private readonly ArrayBufferWriter<byte> _writeBuffer = new(512);
    private byte[] _readBuffer = new byte[InitialReadBufferSize];
    private int _readStart;
    private int _readEnd;
    private int _payloadStart;
    private int _payloadLength;

    /// <summary>The payload of the message last returned by <see cref="ReadMessageAsync"/>; valid until the next read.</summary>
    private ReadOnlySpan<byte> Payload => _readBuffer.AsSpan(_payloadStart, _payloadLength);

    private static async Task<Socket> OpenSocketAsync(string host, int port, CancellationToken cancellationToken)
    {
        var endPoints = await ResolveAsync(host, port, cancellationToken).ConfigureAwait(false);
        PgConnectionException? lastError = null;
        foreach (var endPoint in endPoints)
        {
            try
            {
                return await ConnectSocketAsync(endPoint, cancellationToken).ConfigureAwait(false);
            }
            catch (PgConnectionException e)
            {
                lastError = e;
            }
        }

        throw lastError!;
    }

    private static async Task<EndPoint[]> ResolveAsync(string host, int port, CancellationToken cancellationToken)
    {
        if (host.StartsWith('/'))
        {
            return [new UnixDomainSocketEndPoint(Path.Combine(host, ".s.PGSQL." + port))];
        }

        if (IPAddress.TryParse(host, out var address))
        {
            return [new IPEndPoint(address, port)];
        }

        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new PgConnectionException($"Could not resolve the PostgreSQL host name \"{host}\": {e.Message}. Check the host name.", e);
        }

        if (addresses.Length == 0)
        {
            throw new PgConnectionException($"The PostgreSQL host name \"{host}\" has no addresses. Check the host name.");
        }

        var endPoints = new EndPoint[addresses.Length];
        for (var i = 0; i < addresses.Length; i++)
        {
            endPoints[i] = new IPEndPoint(addresses[i], port);
        }

        return endPoints;
    }

    private static async Task<Socket> ConnectSocketAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        Socket socket;
        if (endPoint is UnixDomainSocketEndPoint)
        {
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        }
        else
        {
            socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        }

        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch (SocketException e) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new PgConnectionException(
                $"Could not connect to PostgreSQL at {endPoint}: {e.Message}. Check that the server runs and listens there.", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Reads the next whole message into the buffer and returns its header; <see cref="Payload"/> holds its body.</summary>
    private async ValueTask<MessageHeader> ReadMessageAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var buffered = _readBuffer.AsSpan(_readStart, _readEnd - _readStart);
            var status = MessageFraming.TryReadMessageHeader(buffered, _options.MaxMessageLength, out var header);
            switch (status)
            {
                case MessageReadStatus.Ok when buffered.Length >= header.FrameLength:
                    _payloadStart = _readStart + ProtocolConstants.MessageHeaderLength;
                    _payloadLength = header.PayloadLength;
                    _readStart += (int)header.FrameLength;
                    return header;
                case MessageReadStatus.LengthTooSmall:
                case MessageReadStatus.LengthTooLarge:
                    throw new PgProtocolException(
                        $"The server at {RemoteEndPoint} sent a message '{(char)header.Code}' with an invalid length {header.Length} " +
                        $"(allowed: 4 to {_options.MaxMessageLength}); the stream is corrupt or not PostgreSQL.");
            }

            var needed = status == MessageReadStatus.Ok ? (int)header.FrameLength : ProtocolConstants.MessageHeaderLength;
            await FillAsync(needed, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Receives more bytes, first making room for a message of <paramref name="needed"/> bytes.</summary>
    private async ValueTask FillAsync(int needed, CancellationToken cancellationToken)
    {
        var buffered = _readEnd - _readStart;
        if (buffered == 0)
        {
            _readStart = _readEnd = 0;
        }
        else if (_readStart > 0 && _readBuffer.Length - _readStart < needed)
        {
            Buffer.BlockCopy(_readBuffer, _readStart, _readBuffer, 0, buffered);
            _readStart = 0;
            _readEnd = buffered;
        }

        if (_readBuffer.Length < needed)
        {
            Array.Resize(ref _readBuffer, Math.Max(needed, _readBuffer.Length * 2));
        }

        int received;
        try
        {
            received = await _socket.ReceiveAsync(_readBuffer.AsMemory(_readEnd), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PgConnectionException($"The connection to PostgreSQL at {RemoteEndPoint} was lost: {e.Message}.", e);
        }

        if (received == 0)
        {
            throw new PgConnectionException(
                $"PostgreSQL at {RemoteEndPoint} closed the connection unexpectedly (the server may have stopped or terminated the backend).");
        }

        _readEnd += received;
    }

    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            var pending = _writeBuffer.WrittenMemory;
            while (!pending.IsEmpty)
            {
                var sent = await _socket.SendAsync(pending, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                pending = pending.Slice(sent);
            }
        }
        catch (SocketException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PgConnectionException($"Sending to PostgreSQL at {RemoteEndPoint} failed: {e.Message}.", e);
        }
        finally
        {
            _writeBuffer.ResetWrittenCount();
        }
    }
}
