namespace PgGate.Config;

/// <summary>A PostgreSQL HA cluster: its members in configured order (backup order follows it) and its services.</summary>
public sealed record ClusterConfig
{
    public required string Name { get; init; }

    public required IReadOnlyList<MemberConfig> Members { get; init; }

    public HealthConfig Health { get; init; } = new();

    public required IReadOnlyList<ServiceConfig> Services { get; init; }

    /// <summary>Cluster VIP (<c>10.10.10.3</c>), when one is configured; used by <c>urls</c> and the VIP holder.</summary>
    public string? Vip { get; init; }

    /// <summary>What <c>dest: default</c> means in this cluster (native <c>default_service_dest</c>, Pigsty's <c>pg_default_service_dest</c>).</summary>
    public ServiceDestination DefaultServiceDest { get; init; } = ServiceDestination.Postgres;

    /// <summary>The pooler this cluster's nodes run (and its <c>dest: pool</c> services use); null: none.</summary>
    public PoolerConfig? Pooler { get; init; }

    public SourceLocation Location { get; init; } = SourceLocation.None;

    public MemberConfig? FindMember(string nameOrHost)
    {
        foreach (var m in Members)
        {
            if (m.Name == nameOrHost || m.Host == nameOrHost)
                return m;
        }
        return null;
    }
}
