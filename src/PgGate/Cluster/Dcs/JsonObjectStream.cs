using System.Text.Json;

namespace PgGate.Cluster.Dcs;

/// <summary>
/// Splits a streaming HTTP body into the JSON objects it carries, one at a time. etcd's gateway writes each watch
/// response as one object followed by a newline, but chunk boundaries fall anywhere, so objects are found by
/// parsing, not by lines.
/// </summary>
internal sealed class JsonObjectStream
{
    /// <summary>A watch response is small (one key); anything this large without ending is not etcd talking.</summary>
    internal const int MaxObjectBytes = 4 << 20;

    private readonly Stream _stream;
    private byte[] _buffer = new byte[8192];
    private int _start;
    private int _end;

    public JsonObjectStream(Stream stream) => _stream = stream;

    /// <summary>The next complete object's bytes, valid until the next call; empty at the end of the stream (a partial
    /// object at the end throws).</summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadObjectAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            SkipWhitespace();
            if (_start < _end)
            {
                var length = CompleteObjectLength();
                if (length > 0)
                {
                    var result = new ReadOnlyMemory<byte>(_buffer, _start, length);
                    _start += length;
                    return result;
                }
            }

            if (!await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                SkipWhitespace();
                if (_start < _end)
                    throw new EtcdException($"the watch stream ended inside a JSON object ({_end - _start} bytes unterminated)");
                return ReadOnlyMemory<byte>.Empty;
            }
        }
    }

    // 0 when the buffered bytes hold only the beginning of an object.
    private int CompleteObjectLength()
    {
        var reader = new Utf8JsonReader(new ReadOnlySpan<byte>(_buffer, _start, _end - _start), isFinalBlock: false, state: default);
        try
        {
            if (!reader.Read())
                return 0;
            if (reader.TokenType != JsonTokenType.StartObject)
                throw new EtcdException($"the watch stream carries {reader.TokenType} where a JSON object was expected: {Preview()}");
            return reader.TrySkip() ? (int)reader.BytesConsumed : 0;
        }
        catch (JsonException e)
        {
            throw new EtcdException($"the watch stream is not JSON ({e.Message}): {Preview()}", e);
        }
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
            if (_buffer.Length >= MaxObjectBytes)
                throw new EtcdException($"a watch response exceeds {MaxObjectBytes} bytes without ending: {Preview()}");
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }
        var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        _end += read;
        return read > 0;
    }

    private void SkipWhitespace()
    {
        while (_start < _end && _buffer[_start] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
            _start++;
    }

    private string Preview()
    {
        var length = Math.Min(_end - _start, 200);
        return System.Text.Encoding.UTF8.GetString(_buffer, _start, length) + (length < _end - _start ? "..." : "");
    }
}
