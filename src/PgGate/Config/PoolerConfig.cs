using PgGate.Pooling;

namespace PgGate.Config;

/// <summary>
/// The pooler of the nodes of a cluster (native <c>pooler:</c>, or Pigsty's <c>pgbouncer_*</c> variables,
/// <c>pg_databases</c> and <c>pg_users</c>): its PgBouncer settings, and whether each node serves it on its member's
/// pooler port. Services with <c>dest: pool</c> hand their clients to the same pooler, so they need one.
/// </summary>
public sealed record PoolerConfig
{
    /// <summary>The pooler's settings with PgBouncer's meanings. <see cref="PoolerSettings.ListenPort"/> is the default of
    /// every member's pooler port; a node listens on its own member's port.</summary>
    public required PoolerSettings Settings { get; init; }

    /// <summary>Every node serves the pooler on its member's pooler port (PgBouncer's role); false keeps it for
    /// <c>dest: pool</c> services only.</summary>
    public bool Listen { get; init; } = true;

    public SourceLocation Location { get; init; } = SourceLocation.None;
}
