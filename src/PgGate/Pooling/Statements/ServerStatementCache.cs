namespace PgGate.Pooling.Statements;

/// <summary>
/// The pooler's statements prepared on one server connection, least recently used last, bounded by
/// <c>max_prepared_statements</c>: preparing one more first evicts (closes) the oldest.
/// </summary>
internal sealed class ServerStatementCache
{
    private readonly Dictionary<long, LinkedListNode<PreparedStatement>> _nodes = [];
    private readonly LinkedList<PreparedStatement> _order = new();

    public ServerStatementCache(int capacity) => Capacity = Math.Max(1, capacity);

    public int Capacity { get; set; }

    public int Count => _nodes.Count;

    /// <summary>True when the server has it; marks it most recently used.</summary>
    public bool Touch(PreparedStatement statement)
    {
        if (!_nodes.TryGetValue(statement.Id, out var node))
        {
            return false;
        }

        if (!ReferenceEquals(_order.First, node))
        {
            _order.Remove(node);
            _order.AddFirst(node);
        }

        return true;
    }

    /// <summary>Records that the server now has <paramref name="statement"/>; returns the statement to close first
    /// when the cache was full, else null.</summary>
    public PreparedStatement? Add(PreparedStatement statement)
    {
        PreparedStatement? evicted = null;
        if (_nodes.Count >= Capacity && _order.Last is { } oldest)
        {
            evicted = oldest.Value;
            _order.RemoveLast();
            _nodes.Remove(evicted.Id);
        }

        _nodes[statement.Id] = _order.AddFirst(statement);
        return evicted;
    }

    public void Remove(PreparedStatement statement)
    {
        if (_nodes.Remove(statement.Id, out var node))
        {
            _order.Remove(node);
        }
    }

    /// <summary>The server dropped all its prepared statements (DISCARD ALL, DEALLOCATE ALL).</summary>
    public void Clear()
    {
        _nodes.Clear();
        _order.Clear();
    }
}
