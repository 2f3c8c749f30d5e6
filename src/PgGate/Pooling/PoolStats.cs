namespace PgGate.Pooling;

/// <summary>
/// The cumulative counters PgBouncer's SHOW STATS reports for one pool (or, summed, for a database or the whole pooler),
/// kept with Interlocked adds on the hot path. Times are microseconds, as in PgBouncer.
/// </summary>
public sealed class PoolStats
{
    private long _transactionCount;
    private long _queryCount;
    private long _bytesReceived;
    private long _bytesSent;
    private long _transactionTime;
    private long _queryTime;
    private long _waitTime;
    private long _serverLoginFailures;

    /// <summary>total_xact_count: transactions completed (a statement outside a transaction counts as one).</summary>
    public long TransactionCount => Volatile.Read(ref _transactionCount);

    /// <summary>total_query_count: requests answered by ReadyForQuery.</summary>
    public long QueryCount => Volatile.Read(ref _queryCount);

    /// <summary>total_received: bytes received from clients.</summary>
    public long BytesReceived => Volatile.Read(ref _bytesReceived);

    /// <summary>total_sent: bytes sent to clients.</summary>
    public long BytesSent => Volatile.Read(ref _bytesSent);

    /// <summary>total_xact_time (µs), from the first request of a transaction to its end.</summary>
    public long TransactionTime => Volatile.Read(ref _transactionTime);

    /// <summary>total_query_time (µs), from a request to its ReadyForQuery.</summary>
    public long QueryTime => Volatile.Read(ref _queryTime);

    /// <summary>total_wait_time (µs) clients spent waiting for a server connection.</summary>
    public long WaitTime => Volatile.Read(ref _waitTime);

    /// <summary>Server logins that failed (unreachable server, refused credentials).</summary>
    public long ServerLoginFailures => Volatile.Read(ref _serverLoginFailures);

    internal void AddReceived(long bytes) => Interlocked.Add(ref _bytesReceived, bytes);

    internal void AddSent(long bytes) => Interlocked.Add(ref _bytesSent, bytes);

    internal void AddQuery(long microseconds)
    {
        Interlocked.Increment(ref _queryCount);
        Interlocked.Add(ref _queryTime, microseconds);
    }

    internal void AddTransaction(long microseconds)
    {
        Interlocked.Increment(ref _transactionCount);
        Interlocked.Add(ref _transactionTime, microseconds);
    }

    internal void AddWait(long microseconds) => Interlocked.Add(ref _waitTime, microseconds);

    internal void AddServerLoginFailure() => Interlocked.Increment(ref _serverLoginFailures);

    /// <summary>Adds another pool's counters into this one (for per-database and global totals).</summary>
    public void Accumulate(PoolStats other)
    {
        _transactionCount += other.TransactionCount;
        _queryCount += other.QueryCount;
        _bytesReceived += other.BytesReceived;
        _bytesSent += other.BytesSent;
        _transactionTime += other.TransactionTime;
        _queryTime += other.QueryTime;
        _waitTime += other.WaitTime;
        _serverLoginFailures += other.ServerLoginFailures;
    }
}
