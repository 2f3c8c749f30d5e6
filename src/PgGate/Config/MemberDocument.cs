namespace PgGate.Config;

/// <summary>
/// The keys PgGate puts into every member document (<see cref="MemberConfig.Vars"/>): PgGate's own names and the
/// Pigsty spellings, so Pigsty selectors work unchanged on native configs.
/// </summary>
internal static class MemberDocument
{
    public static IReadOnlyList<string> ReservedKeys { get; } =
    [
        "name", "host", "role", "offline_query", "weight", "seq", "cluster", "pg_port", "pooler_port", "patroni_port",
        "pg_cluster", "pg_instance", "pg_role", "pg_offline_query", "pg_weight", "pg_seq", "pgbouncer_port", "inventory_hostname",
    ];

    /// <summary>PgGate's own keys, which every document carries in both formats (Pigsty has no variables of these names).</summary>
    public static IReadOnlyList<string> CanonicalKeys { get; } = ["name", "host", "role", "offline_query", "weight", "seq", "cluster", "pooler_port"];

    public static void AddCanonical(Dictionary<string, object?> doc, string cluster, MemberConfig member)
    {
        doc["name"] = member.Name;
        doc["host"] = member.Host;
        doc["role"] = member.Role;
        doc["offline_query"] = member.OfflineQuery;
        doc["weight"] = (long)member.Weight;
        if (member.Seq is { } seq)
            doc["seq"] = (long)seq;
        doc["cluster"] = cluster;
        doc["pooler_port"] = (long)member.PoolerPort;
    }
}
