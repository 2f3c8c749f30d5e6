namespace PgGate.Hosting;

/// <summary>
/// One PgGate node to run in this process: the member it runs beside (null: serve every cluster, as a
/// dedicated proxy) and the address all its listeners bind to instead of the configured ones (null: as
/// configured). The demo runs three nodes in one process, on 127.0.0.11, .12 and .13.
/// </summary>
public sealed record NodeSpec(string? Member, string? BindAddress);
