using System.Buffers;
using System.Buffers.Binary;
using PgGate.Protocol;

namespace PgGate.Pooling.Sessions;

/// <summary>
/// Reads a client's startup packets and authentication messages, whole, with a pooled buffer. Bytes the client sent
/// beyond what login consumed are handed on to the session (<see cref="TakeRemaining"/>).
/// </summary>
internal sealed class LoginReader : IDisposable
{
    /// <summary>Authentication messages (passwords, SASL) are small; anything bigger is a broken or hostile client.</summary>
    public const int MaxAuthMessageLength = 64 * 1024;

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
    private int _start;
    private int _end;

    public LoginReader(ClientTransport transport) => Transport = transport;

    public ClientTransport Transport { get; set; }

    /// <summary>Bytes received and not yet consumed.</summary>
    public int Buffered => _end - _start;

    /// <summary>The payload of the message last returned by <see cref="ReadMessageAsync"/>.</summary>
    public ReadOnlyMemory<byte> Payload { get; private set; }

    /// <summary>The next startup packet (startup, SSL, GSS or cancel request), or null at end of stream.</summary>
    public async ValueTask<StartupParseResult?> ReadStartupPacketAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = StartupPacketParser.Parse(_buffer.AsSpan(_start, _end - _start));
            if (result.Status != StartupParseStatus.NeedMoreData)
            {
                if (result.IsOk)
                {
                    _start += result.PacketLength;
                }

                return result;
            }

            if (!await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
        }
    }

    /// <summary>The next typed message; null at end of stream. Throws <see cref="InvalidDataException"/> on a bad length.</summary>
    public async ValueTask<byte?> ReadMessageAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var available = _end - _start;
            if (available >= ProtocolConstants.MessageHeaderLength)
            {
                var length = BinaryPrimitives.ReadInt32BigEndian(_buffer.AsSpan(_start + 1));
                if (length < 4 || length > MaxAuthMessageLength)
                {
                    throw new InvalidDataException(
                        $"invalid length {length} of a '{(char)_buffer[_start]}' message during authentication (allowed: 4 to {MaxAuthMessageLength})");
                }

                if (available >= length + 1)
                {
                    var code = _buffer[_start];
                    Payload = _buffer.AsMemory(_start + ProtocolConstants.MessageHeaderLength, length - 4);
                    _start += length + 1;
                    return code;
                }
            }

            if (!await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
        }
    }

    /// <summary>Puts bytes read earlier (<see cref="TakeRemaining"/> of another reader) in front, and returns their array to the pool.</summary>
    public void Prepend(byte[]? buffer, int count)
    {
        if (buffer is null)
        {
            return;
        }

        if (count > 0)
        {
            if (_buffer.Length < _end + count)
            {
                var bigger = ArrayPool<byte>.Shared.Rent(_end + count);
                Buffer.BlockCopy(_buffer, 0, bigger, 0, _end);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = bigger;
            }

            Buffer.BlockCopy(_buffer, _start, _buffer, _start + count, _end - _start);
            Buffer.BlockCopy(buffer, 0, _buffer, _start, count);
            _end += count;
        }

        ArrayPool<byte>.Shared.Return(buffer);
    }

    /// <summary>Gives the unconsumed bytes to the caller (who must return the array to the pool) and ends this reader.</summary>
    public (byte[]? Buffer, int Count) TakeRemaining()
    {
        var count = _end - _start;
        if (count == 0)
        {
            return (null, 0);
        }

        var buffer = _buffer;
        Buffer.BlockCopy(buffer, _start, buffer, 0, count);
        _buffer = [];
        _start = _end = 0;
        return (buffer, count);
    }

    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            Buffer.BlockCopy(_buffer, 0, bigger, 0, _end);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }

        var received = await Transport.ReceiveAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        if (received == 0)
        {
            return false;
        }

        _end += received;
        return true;
    }

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }
}
