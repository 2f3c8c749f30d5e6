using System.Buffers;

namespace PgGate.Pooling.Sessions;

/// <summary>
/// Bytes to send to one peer, gathered while a chunk of input is processed. Messages forwarded unchanged are recorded
/// as a range of the input buffer (<see cref="Pass"/>) and sent from there without copying; only when the pooler writes
/// something of its own (a rewritten Bind, an injected Parse) is the output copied into a pooled buffer. Nothing is
/// held between sends.
/// </summary>
internal sealed class OutboundBuffer : IBufferWriter<byte>
{
    private const int MinimumBufferSize = 4096;

    private byte[]? _buffer;
    private int _count;
    private byte[]? _passArray;
    private int _passStart;
    private int _passEnd;

    public bool IsEmpty => _count == 0 && _passArray is null;

    public long Length => _count + (_passArray is null ? 0 : _passEnd - _passStart);

    /// <summary>Appends <paramref name="length"/> bytes of <paramref name="source"/>, which must stay untouched until
    /// <see cref="Reset"/>.</summary>
    public void Pass(byte[] source, int start, int length)
    {
        if (length == 0)
        {
            return;
        }

        if (_passArray is not null)
        {
            if (ReferenceEquals(_passArray, source) && _passEnd == start)
            {
                _passEnd += length;
                return;
            }

            Materialize();
        }
        else if (_count > 0)
        {
            Write(source.AsSpan(start, length));
            return;
        }

        _passArray = source;
        _passStart = start;
        _passEnd = start + length;
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        Advance(bytes.Length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Materialize();
        Ensure(Math.Max(sizeHint, 1));
        return _buffer.AsSpan(_count);
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Materialize();
        Ensure(Math.Max(sizeHint, 1));
        return _buffer.AsMemory(_count);
    }

    public void Advance(int count) => _count += count;

    /// <summary>What to send: the pass-through range alone when nothing was written, else the copied bytes.</summary>
    public ReadOnlyMemory<byte> GetWritten() =>
        _passArray is not null && _count == 0
            ? _passArray.AsMemory(_passStart, _passEnd - _passStart)
            : MaterializedMemory();

    /// <summary>Forgets everything and returns the pooled buffer.</summary>
    public void Reset()
    {
        _passArray = null;
        _count = 0;
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }

    private ReadOnlyMemory<byte> MaterializedMemory()
    {
        Materialize();
        return _buffer.AsMemory(0, _count);
    }

    private void Materialize()
    {
        if (_passArray is null)
        {
            return;
        }

        var length = _passEnd - _passStart;
        var source = _passArray;
        var start = _passStart;
        _passArray = null;
        Ensure(length);
        source.AsSpan(start, length).CopyTo(_buffer.AsSpan(_count));
        _count += length;
    }

    private void Ensure(int size)
    {
        if (_buffer is null)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(size, MinimumBufferSize));
            return;
        }

        if (_buffer.Length - _count >= size)
        {
            return;
        }

        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_count + size, _buffer.Length * 2));
        _buffer.AsSpan(0, _count).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}
