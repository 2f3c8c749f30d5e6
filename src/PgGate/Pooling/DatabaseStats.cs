namespace PgGate.Pooling;

/// <summary>SHOW STATS for one database: totals since start and averages over the last stats_period.</summary>
public sealed record DatabaseStats(string Database, StatsValues Totals, StatsValues Averages);
