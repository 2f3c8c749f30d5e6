namespace PgGate.Services;

/// <summary>Counters of one service on this node; one source for the status page, JSON and /metrics.</summary>
public sealed class ServiceStats
{
    private long _accepted;
    private int _active;
    private long _refusedNoServer;
    private long _refusedBusy;
    private long _refusedMaxConn;
    private long _connectErrors;
    private long _retries;
    private long _shutdownSessions;
    private long _bytesIn;
    private long _bytesOut;

    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Client sessions open now (relaying, connecting or queued).</summary>
    public int Active => Volatile.Read(ref _active);

    public long RefusedNoServer => Interlocked.Read(ref _refusedNoServer);
    public long RefusedBusy => Interlocked.Read(ref _refusedBusy);
    public long RefusedMaxConn => Interlocked.Read(ref _refusedMaxConn);
    public long ConnectErrors => Interlocked.Read(ref _connectErrors);
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Sessions closed because their server went down or left the service.</summary>
    public long ShutdownSessions => Interlocked.Read(ref _shutdownSessions);

    /// <summary>Bytes from clients to servers.</summary>
    public long BytesIn => Interlocked.Read(ref _bytesIn);

    /// <summary>Bytes from servers to clients.</summary>
    public long BytesOut => Interlocked.Read(ref _bytesOut);

    /// <summary>Counts a new client unless the service is at its frontend maxconn (0 = unlimited).</summary>
    public bool TryEnter(int maxConn)
    {
        Interlocked.Increment(ref _accepted);
        while (true)
        {
            var now = Volatile.Read(ref _active);
            if (maxConn > 0 && now >= maxConn)
            {
                Interlocked.Increment(ref _refusedMaxConn);
                return false;
            }
            if (Interlocked.CompareExchange(ref _active, now + 1, now) == now)
                return true;
        }
    }

    public void Leave() => Interlocked.Decrement(ref _active);

    public void CountRefusal(string sqlState)
    {
        if (sqlState == "57P03")
            Interlocked.Increment(ref _refusedNoServer);
        else
            Interlocked.Increment(ref _refusedBusy);
    }

    public void CountConnectError() => Interlocked.Increment(ref _connectErrors);
    public void CountRetry() => Interlocked.Increment(ref _retries);
    public void CountShutdown() => Interlocked.Increment(ref _shutdownSessions);
    public void AddBytesIn(int n) => Interlocked.Add(ref _bytesIn, n);
    public void AddBytesOut(int n) => Interlocked.Add(ref _bytesOut, n);
}
