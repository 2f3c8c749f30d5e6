namespace PgGate.Cluster;

/// <summary>
/// How live facts override the configured role for selectors. Pigsty's roles are static inventory data,
/// so after a failover its ex-primary stays a replica-service backup and the promoted replica keeps
/// serving reads. PgGate swaps only what a failover changes: a member that is primary now is
/// <c>primary</c>; a configured primary that now replicates is <c>replica</c>. Offline, standby and
/// delayed members keep their configured role while they replicate.
/// </summary>
public static class LiveRoles
{
    public static string Effective(string configuredRole, MemberFacts facts)
    {
        if (!facts.Reachable)
            return configuredRole;
        return facts.Role switch
        {
            MemberRole.Primary when facts.IsLeader => "primary",
            MemberRole.Replica when configuredRole == "primary" => "replica",
            _ => configuredRole,
        };
    }

    public static string? LiveName(MemberFacts facts) => facts.Reachable
        ? facts.Role switch
        {
            MemberRole.Primary => "primary",
            MemberRole.Replica => "replica",
            MemberRole.StandbyLeader => "standby_leader",
            _ => null,
        }
        : null;
}
