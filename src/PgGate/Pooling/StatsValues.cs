namespace PgGate.Pooling;

/// <summary>
/// One row of SHOW STATS numbers. As totals: counts, bytes and microseconds since start. As averages (over the last
/// <c>stats_period</c>, as PgBouncer computes them): <see cref="XactCount"/>, <see cref="QueryCount"/>,
/// <see cref="BytesReceived"/>, <see cref="BytesSent"/> and <see cref="WaitTime"/> per second; <see cref="XactTime"/> and
/// <see cref="QueryTime"/> in microseconds per transaction and per query.
/// </summary>
public readonly record struct StatsValues(
    long XactCount, long QueryCount, long BytesReceived, long BytesSent, long XactTime, long QueryTime, long WaitTime)
{
    public static StatsValues From(PoolStats stats) =>
        new(stats.TransactionCount, stats.QueryCount, stats.BytesReceived, stats.BytesSent, stats.TransactionTime, stats.QueryTime, stats.WaitTime);

    public StatsValues Add(StatsValues other) => new(
        XactCount + other.XactCount, QueryCount + other.QueryCount, BytesReceived + other.BytesReceived, BytesSent + other.BytesSent,
        XactTime + other.XactTime, QueryTime + other.QueryTime, WaitTime + other.WaitTime);

    /// <summary>The averages of the period from <paramref name="before"/> to these totals, <paramref name="seconds"/> long.</summary>
    public StatsValues AveragesSince(StatsValues before, double seconds)
    {
        if (seconds <= 0)
        {
            return default;
        }

        var xacts = Math.Max(0, XactCount - before.XactCount);
        var queries = Math.Max(0, QueryCount - before.QueryCount);
        return new StatsValues(
            PerSecond(xacts), PerSecond(queries),
            PerSecond(BytesReceived - before.BytesReceived), PerSecond(BytesSent - before.BytesSent),
            xacts == 0 ? 0 : Math.Max(0, XactTime - before.XactTime) / xacts,
            queries == 0 ? 0 : Math.Max(0, QueryTime - before.QueryTime) / queries,
            PerSecond(WaitTime - before.WaitTime));

        long PerSecond(long delta) => delta <= 0 ? 0 : (long)Math.Round(delta / seconds);
    }
}
