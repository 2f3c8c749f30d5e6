namespace PgGate.Pooling.Ini;

/// <summary>A pgbouncer.ini mapped to pooler settings, with a "file:line: ..." warning for every line PgGate ignores.</summary>
public sealed record PgBouncerIniResult(string Path, PoolerSettings Settings, IReadOnlyList<string> Warnings);
