using System.Buffers.Binary;
using System.Text;

namespace PgGate.Protocol;

/// <summary>Sequential reader over a message payload; every read reports a short payload instead of throwing.</summary>
internal ref struct PayloadReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    public PayloadReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Remaining => _buffer.Length - _position;

    public readonly ReadOnlySpan<byte> Rest => _buffer.Slice(_position);

    public bool TryReadByte(out byte value)
    {
        if (_position < _buffer.Length)
        {
            value = _buffer[_position++];
            return true;
        }

        value = 0;
        return false;
    }

    public bool TryReadInt16(out short value)
    {
        if (Remaining >= 2)
        {
            value = BinaryPrimitives.ReadInt16BigEndian(_buffer.Slice(_position));
            _position += 2;
            return true;
        }

        value = 0;
        return false;
    }

    public bool TryReadInt32(out int value)
    {
        if (Remaining >= 4)
        {
            value = BinaryPrimitives.ReadInt32BigEndian(_buffer.Slice(_position));
            _position += 4;
            return true;
        }

        value = 0;
        return false;
    }

    public bool TryReadBytes(int count, out ReadOnlySpan<byte> value)
    {
        if (count >= 0 && Remaining >= count)
        {
            value = _buffer.Slice(_position, count);
            _position += count;
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>Reads a NUL-terminated string's bytes, without the terminator.</summary>
    public bool TryReadCStringBytes(out ReadOnlySpan<byte> value)
    {
        var rest = _buffer.Slice(_position);
        var end = rest.IndexOf((byte)0);
        if (end < 0)
        {
            value = default;
            return false;
        }

        value = rest.Slice(0, end);
        _position += end + 1;
        return true;
    }

    /// <summary>Reads a NUL-terminated string; invalid UTF-8 from a server becomes U+FFFD rather than an error.</summary>
    public bool TryReadCString(out string value)
    {
        if (TryReadCStringBytes(out var bytes))
        {
            value = Encoding.UTF8.GetString(bytes);
            return true;
        }

        value = string.Empty;
        return false;
    }
}
