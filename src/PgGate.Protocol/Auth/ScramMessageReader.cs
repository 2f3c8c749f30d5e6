namespace PgGate.Protocol.Auth;

/// <summary>Reads the comma-separated "x=value" attributes of a SCRAM message (RFC 5802 §7).</summary>
internal ref struct ScramMessageReader
{
    private readonly ReadOnlySpan<char> _message;
    private int _position;

    public ScramMessageReader(ReadOnlySpan<char> message)
    {
        _message = message;
        _position = 0;
    }

    public readonly bool IsAtEnd => _position >= _message.Length;

    public readonly int Position => _position;

    public readonly char PeekName() => IsAtEnd ? '\0' : _message[_position];

    /// <summary>Reads the next attribute if its name is <paramref name="name"/>.</summary>
    public bool TryRead(char name, out ReadOnlySpan<char> value)
    {
        var start = _position;
        if (TryReadAny(out var actual, out value) && actual == name)
        {
            return true;
        }

        _position = start;
        value = default;
        return false;
    }

    public bool TryReadAny(out char name, out ReadOnlySpan<char> value)
    {
        var rest = _message.Slice(_position);
        if (rest.Length < 2 || rest[1] != '=' || !char.IsAsciiLetter(rest[0]))
        {
            name = '\0';
            value = default;
            return false;
        }

        name = rest[0];
        var end = rest.IndexOf(',');
        if (end < 0)
        {
            value = rest.Slice(2);
            _position = _message.Length;
        }
        else
        {
            value = rest.Slice(2, end - 2);
            _position += end + 1;
        }

        return true;
    }

    /// <summary>Skips optional extensions ("x=value") up to the end, as PostgreSQL does; false if something else is there.</summary>
    public bool TrySkipExtensions()
    {
        while (!IsAtEnd)
        {
            if (!TryReadAny(out _, out _))
            {
                return false;
            }
        }

        return true;
    }
}
