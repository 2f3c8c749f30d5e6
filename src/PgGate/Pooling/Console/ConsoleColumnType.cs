namespace PgGate.Pooling.Console;

/// <summary>The column types PgBouncer's console uses: text, int4 for counts and numeric for SHOW STATS counters.</summary>
internal enum ConsoleColumnType
{
    Text,
    Int4,
    Numeric,
}
