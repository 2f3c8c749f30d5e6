namespace PgGate.Cluster;

/// <summary>
/// Patroni's REST health-check semantics (patroni/api.py <c>do_GET</c>), evaluated on facts PgGate
/// gathered itself, so one service definition means the same with the <c>sql</c> source as with
/// Patroni. Paths are matched by substring in Patroni's order; the primary is never "sync".
/// </summary>
public static class PatroniCheckRules
{
    public static bool Passes(CheckPath check, MemberFacts facts)
    {
        var path = check.Path;
        var isPrimary = facts.Running && facts.IsLeader && facts.Role == MemberRole.Primary;
        var isStandbyLeader = facts.Running && facts.IsLeader && facts.Role == MemberRole.StandbyLeader;

        if (Has(path, "standby_leader") || Has(path, "standby-leader"))
            return isStandbyLeader;
        if (Has(path, "leader"))
            return facts.IsLeader;
        if (Has(path, "master") || Has(path, "primary") || Has(path, "read-write"))
            return WithTags(isPrimary, check, facts, tagsApply: false);

        bool result;
        if (Has(path, "replica"))
            result = ReplicaCode(check, facts);
        else if (Has(path, "read-only") && !Has(path, "sync") && !Has(path, "quorum"))
            result = isPrimary || isStandbyLeader || ReplicaCode(check, facts);
        else if (Has(path, "health"))
            result = facts.Running;
        else if (path is "/sync" or "/synchronous")
            result = facts.IsSyncStandby && ReplicaCode(check, facts);
        else if (path is "/quorum")
            result = facts.IsQuorumStandby && ReplicaCode(check, facts);
        else if (path is "/async" or "/asynchronous")
            result = !facts.IsSyncStandby && !facts.IsQuorumStandby && ReplicaCode(check, facts);
        else if (path is "/read-only-sync" or "/read-only-synchronous")
            result = isPrimary || isStandbyLeader || (facts.IsSyncStandby && ReplicaCode(check, facts));
        else if (path is "/read-only-quorum")
            result = isPrimary || isStandbyLeader || (facts.IsQuorumStandby && ReplicaCode(check, facts));
        else
            result = false;

        return WithTags(result, check, facts, tagsApply: true);
    }

    private static bool ReplicaCode(CheckPath check, MemberFacts facts)
    {
        if (!facts.Running || facts.Role != MemberRole.Replica || facts.Tags.ContainsKey("noloadbalance"))
            return false;
        if (check.MaxLagBytes is { } maxLag && (facts.LagBytes is not { } lag || lag > maxLag))
            return false;
        if (check.ReplicationState is { } wanted && facts.ReplicationState != wanted)
            return false;
        return true;
    }

    // Patroni filters by tag_* only when the answer is 200 and the path is not a leader/primary path.
    private static bool WithTags(bool result, CheckPath check, MemberFacts facts, bool tagsApply)
    {
        if (!result || !tagsApply)
            return result;
        foreach (var (key, value) in check.Tags)
        {
            if (!facts.Tags.TryGetValue(key, out var actual) || actual != value)
                return false;
        }
        return true;
    }

    private static bool Has(string path, string part) => path.Contains(part, StringComparison.Ordinal);
}
