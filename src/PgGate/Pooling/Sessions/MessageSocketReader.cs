using System.Buffers;
using System.Net.Sockets;
using PgGate.Protocol;

namespace PgGate.Pooling.Sessions;

/// <summary>
/// Whole-message reads from a server socket for the slow paths (login, auth_query), where simplicity beats
/// streaming. The buffer is pooled and returned on <see cref="Dispose"/>.
/// </summary>
internal sealed class MessageSocketReader : IDisposable
{
    private const int MaxMessage = 64 * 1024 * 1024;

    private readonly Socket _socket;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(8192);
    private int _start;
    private int _end;
    private int _payloadStart;
    private int _payloadLength;

    public MessageSocketReader(Socket socket) => _socket = socket;

    public ReadOnlySpan<byte> Payload => _buffer.AsSpan(_payloadStart, _payloadLength);

    /// <summary>Bytes received after the last message read (a server sends none after ReadyForQuery at login).</summary>
    public int Buffered => _end - _start;

    public async ValueTask<byte> ReadAsync(EndPointDescription peer, CancellationToken cancellationToken)
    {
        while (true)
        {
            var status = MessageFraming.TryReadMessageHeader(_buffer.AsSpan(_start, _end - _start), MaxMessage, out var header);
            if (status == MessageReadStatus.Ok && _end - _start >= header.FrameLength)
            {
                _payloadStart = _start + ProtocolConstants.MessageHeaderLength;
                _payloadLength = header.PayloadLength;
                _start += (int)header.FrameLength;
                return header.Code;
            }

            if (status is MessageReadStatus.LengthTooSmall or MessageReadStatus.LengthTooLarge)
            {
                throw new ServerLoginException($"{peer} sent a message '{(char)header.Code}' with an invalid length {header.Length}; it does not speak the PostgreSQL protocol.");
            }

            var needed = status == MessageReadStatus.Ok ? (int)header.FrameLength : ProtocolConstants.MessageHeaderLength;
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            if (_buffer.Length < needed)
            {
                var bigger = ArrayPool<byte>.Shared.Rent(needed);
                Buffer.BlockCopy(_buffer, 0, bigger, 0, _end);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = bigger;
            }

            var received = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (received == 0)
            {
                throw new ServerLoginException($"{peer} closed the connection during login.");
            }

            _end += received;
        }
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}

/// <summary>A backend as shown in messages ("PostgreSQL at 127.0.0.1:5432").</summary>
internal readonly record struct EndPointDescription(BackendEndpoint Endpoint)
{
    public override string ToString() => "PostgreSQL at " + Endpoint;
}
