namespace PgGate.Pooling.Statements;

/// <summary>
/// One client's statement names (as bytes, straight from its messages) to the shared statements they stand for.
/// Looked up on every Bind, so lookups hash the name bytes in place instead of decoding a string.
/// </summary>
internal sealed class ClientStatementMap
{
    private readonly Dictionary<int, Entry> _buckets = [];

    public int Count { get; private set; }

    public PreparedStatement? Find(ReadOnlySpan<byte> name)
    {
        if (!_buckets.TryGetValue(Hash(name), out var entry))
        {
            return null;
        }

        for (; entry is not null; entry = entry.Next)
        {
            if (entry.Name.AsSpan().SequenceEqual(name))
            {
                return entry.Statement;
            }
        }

        return null;
    }

    public void Add(ReadOnlySpan<byte> name, PreparedStatement statement)
    {
        var hash = Hash(name);
        _buckets.TryGetValue(hash, out var head);
        _buckets[hash] = new Entry(name.ToArray(), statement, head);
        Count++;
    }

    /// <summary>Removes the name; returns its statement (for releasing it) or null when the client had no such name.</summary>
    public PreparedStatement? Remove(ReadOnlySpan<byte> name)
    {
        var hash = Hash(name);
        if (!_buckets.TryGetValue(hash, out var head))
        {
            return null;
        }

        Entry? previous = null;
        for (var entry = head; entry is not null; previous = entry, entry = entry.Next)
        {
            if (!entry.Name.AsSpan().SequenceEqual(name))
            {
                continue;
            }

            if (previous is null)
            {
                if (entry.Next is null)
                {
                    _buckets.Remove(hash);
                }
                else
                {
                    _buckets[hash] = entry.Next;
                }
            }
            else
            {
                previous.Next = entry.Next;
            }

            Count--;
            return entry.Statement;
        }

        return null;
    }

    /// <summary>Empties the map, releasing every statement in <paramref name="registry"/>.</summary>
    public void Clear(StatementRegistry registry)
    {
        foreach (var head in _buckets.Values)
        {
            for (var entry = head; entry is not null; entry = entry.Next)
            {
                registry.Release(entry.Statement);
            }
        }

        _buckets.Clear();
        Count = 0;
    }

    private static int Hash(ReadOnlySpan<byte> name)
    {
        var hash = new HashCode();
        hash.AddBytes(name);
        return hash.ToHashCode();
    }

    private sealed class Entry(byte[] name, PreparedStatement statement, Entry? next)
    {
        public byte[] Name { get; } = name;

        public PreparedStatement Statement { get; } = statement;

        public Entry? Next { get; set; } = next;
    }
}
