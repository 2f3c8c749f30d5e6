namespace PgGate.Pooling.Statements;

/// <summary>
/// Gives every distinct statement body one <see cref="PreparedStatement"/> while at least one client holds it, so that
/// servers prepare each query once whichever client asked. Named Parse is rare next to Bind, so a lock is fine here.
/// </summary>
internal sealed class StatementRegistry
{
    private readonly Dictionary<int, PreparedStatement> _buckets = [];
    private readonly Lock _gate = new();
    private long _nextId;

    public int Count { get; private set; }

    /// <summary>The statement for <paramref name="body"/>, created if needed, with one more reference.</summary>
    public PreparedStatement Acquire(ReadOnlySpan<byte> body)
    {
        var hash = HashBody(body);
        lock (_gate)
        {
            _buckets.TryGetValue(hash, out var head);
            for (var statement = head; statement is not null; statement = statement.NextInBucket)
            {
                if (statement.Body.AsSpan().SequenceEqual(body))
                {
                    statement.References++;
                    return statement;
                }
            }

            var created = new PreparedStatement(++_nextId, body.ToArray(), hash) { References = 1, NextInBucket = head };
            _buckets[hash] = created;
            Count++;
            return created;
        }
    }

    /// <summary>Drops one reference; the last one forgets the statement (servers keep it until their LRU evicts it).</summary>
    public void Release(PreparedStatement statement)
    {
        lock (_gate)
        {
            if (--statement.References > 0)
            {
                return;
            }

            if (!_buckets.TryGetValue(statement.Hash, out var head))
            {
                return;
            }

            if (ReferenceEquals(head, statement))
            {
                if (statement.NextInBucket is null)
                {
                    _buckets.Remove(statement.Hash);
                }
                else
                {
                    _buckets[statement.Hash] = statement.NextInBucket;
                }

                Count--;
                return;
            }

            for (var previous = head; previous.NextInBucket is not null; previous = previous.NextInBucket)
            {
                if (ReferenceEquals(previous.NextInBucket, statement))
                {
                    previous.NextInBucket = statement.NextInBucket;
                    Count--;
                    return;
                }
            }
        }
    }

    internal static int HashBody(ReadOnlySpan<byte> body)
    {
        var hash = new HashCode();
        hash.AddBytes(body);
        return hash.ToHashCode();
    }
}
