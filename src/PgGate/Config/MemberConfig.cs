namespace PgGate.Config;

/// <summary>
/// One PostgreSQL instance of a cluster as configured. <see cref="Vars"/> is the document that service
/// selectors see (Pigsty's hostvars): it always carries <c>name</c>, <c>host</c>, <c>role</c>,
/// <c>offline_query</c>, <c>weight</c>, <c>cluster</c>, <c>pooler_port</c> (and <c>seq</c> when known), plus
/// <c>pg_cluster</c>, <c>pg_instance</c>, <c>pg_role</c> and <c>inventory_hostname</c>. Native members also carry
/// <c>pg_offline_query</c>, <c>pg_weight</c>, <c>pg_seq</c> (when given), <c>pg_port</c>, <c>pgbouncer_port</c>,
/// <c>patroni_port</c> and their labels; inventory members carry their merged inventory variables exactly as Pigsty's
/// hostvars, so a variable Pigsty leaves unset stays unset (null to a selector) as it is in Pigsty.
/// </summary>
public sealed record MemberConfig
{
    /// <summary>Instance name, e.g. <c>pg-test-1</c> (Patroni's member name).</summary>
    public required string Name { get; init; }

    /// <summary>Address of the member, e.g. <c>10.10.10.11</c>.</summary>
    public required string Host { get; init; }

    public int PgPort { get; init; } = 5432;

    public int PoolerPort { get; init; } = 6432;

    public int PatroniPort { get; init; } = 8008;

    /// <summary>Configured role: primary, replica, standby, offline or delayed (Pigsty's <c>pg_role</c>).</summary>
    public string Role { get; init; } = "replica";

    public bool OfflineQuery { get; init; }

    /// <summary>Server weight, 0-256.</summary>
    public int Weight { get; init; } = 100;

    public int? Seq { get; init; }

    /// <summary>Variables visible to selectors; values are string, bool, long, double, null, lists or maps.</summary>
    public IReadOnlyDictionary<string, object?> Vars { get; init; } = new Dictionary<string, object?>();

    public SourceLocation Location { get; init; } = SourceLocation.None;
}
