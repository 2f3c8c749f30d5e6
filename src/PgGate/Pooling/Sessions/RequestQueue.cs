namespace PgGate.Pooling.Sessions;

/// <summary>The kind of frontend message a server will answer (Flush and copy data get no answer of their own).</summary>
internal enum RequestKind : byte
{
    Parse,
    Bind,
    Describe,
    Execute,
    Close,
    Sync,
    Query,
    FunctionCall,
}

/// <summary>What to do with the server's answer to one request.</summary>
internal enum ResponseAction : byte
{
    /// <summary>Pass it to the client.</summary>
    Forward,

    /// <summary>Drop it: the pooler sent the request on its own (a Parse re-prepared on demand, a SET, a reset).
    /// Errors from an injected Parse are still forwarded: they explain why the client's Bind fails.</summary>
    Swallow,

    /// <summary>The request was a no-op Close standing in for a Parse the server already had: answer ParseComplete.</summary>
    AnswerParseComplete,

    /// <summary>The request was a no-op Close standing in for a Parse the pooler refused: answer the stored ErrorResponse.</summary>
    AnswerError,
}

/// <summary>One request sent to a server whose answer has not fully arrived.</summary>
internal struct PendingRequest
{
    public RequestKind Kind;
    public ResponseAction Action;

    /// <summary>Action-specific data: the statement an injected Parse prepares (dropped from the server's cache if it
    /// fails), or bytes to send the client once the request completes (ParameterStatus after a SET, an ErrorResponse).</summary>
    public object? State;

    public readonly bool EndsWithReadyForQuery => Kind is RequestKind.Sync or RequestKind.Query or RequestKind.FunctionCall;
}

/// <summary>
/// The requests sent to one server connection, in order, so that each response can be matched to its request: how
/// else would the pooler know which ParseComplete answers a Parse it injected? A ring buffer; no allocation once grown.
/// </summary>
internal sealed class RequestQueue
{
    private PendingRequest[] _items = new PendingRequest[8];
    private int _head;

    public int Count { get; private set; }

    public bool IsEmpty => Count == 0;

    public ref PendingRequest Head => ref _items[_head];

    public void Enqueue(RequestKind kind, ResponseAction action = ResponseAction.Forward, object? state = null)
    {
        if (Count == _items.Length)
        {
            var bigger = new PendingRequest[_items.Length * 2];
            for (var i = 0; i < Count; i++)
            {
                bigger[i] = _items[(_head + i) % _items.Length];
            }

            _items = bigger;
            _head = 0;
        }

        ref var slot = ref _items[(_head + Count) % _items.Length];
        slot.Kind = kind;
        slot.Action = action;
        slot.State = state;
        Count++;
    }

    /// <summary>Takes back the request enqueued last (its message turned out to be incomplete).</summary>
    public void RemoveLast()
    {
        Count--;
        _items[(_head + Count) % _items.Length] = default;
    }

    /// <summary>How many queued requests end with ReadyForQuery.</summary>
    public int CountSyncPoints()
    {
        var count = 0;
        for (var i = 0; i < Count; i++)
        {
            if (_items[(_head + i) % _items.Length].EndsWithReadyForQuery)
            {
                count++;
            }
        }

        return count;
    }

    public PendingRequest Dequeue()
    {
        var item = _items[_head];
        _items[_head] = default;
        _head = (_head + 1) % _items.Length;
        Count--;
        return item;
    }

    /// <summary>After an error in the extended protocol the server skips everything up to the next Sync: forget those
    /// requests (their answers will never come). Returns the requests dropped, for undoing their side effects.</summary>
    public int DropUntilSync(List<PendingRequest>? dropped)
    {
        var count = 0;
        while (Count > 0 && _items[_head].Kind != RequestKind.Sync)
        {
            var item = Dequeue();
            dropped?.Add(item);
            count++;
        }

        return count;
    }

    public void Clear()
    {
        while (Count > 0)
        {
            Dequeue();
        }
    }
}
