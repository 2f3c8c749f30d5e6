using PgGate.Config;

namespace PgGate.Cluster;

/// <summary>
/// For sources that see each member alone (<c>sql</c>): derives the facts that need the whole cluster —
/// who leads, each replica's lag behind the leader, and sync state as the leader reports it.
/// </summary>
public static class ClusterFactsResolver
{
    /// <param name="deriveLeader">
    /// True when the source cannot tell who holds leadership (<c>sql</c>): the primary on the newest
    /// timeline leads. False when it can (Patroni reports the leader lock), so <see cref="MemberFacts.IsLeader"/> stands.
    /// </param>
    /// <param name="conflict">Set when more than one member claims to be primary, describing how it was resolved.</param>
    public static MemberFacts[] Resolve(ClusterConfig cluster, IReadOnlyList<MemberFacts> raw, bool deriveLeader, out string? conflict)
    {
        conflict = null;
        var resolved = new MemberFacts[raw.Count];
        if (!deriveLeader)
            return ResolveReplicas(cluster, raw, resolved, LeaderIndex(raw));
        var leader = -1;
        var primaries = 0;
        var tie = false;
        for (var i = 0; i < raw.Count; i++)
        {
            var f = raw[i];
            if (!f.Reachable || !f.Running || f.Role != MemberRole.Primary)
                continue;
            primaries++;
            if (leader < 0 || (f.Timeline ?? -1) > (raw[leader].Timeline ?? -1))
            {
                leader = i;
                tie = false;
            }
            else if ((f.Timeline ?? -1) == (raw[leader].Timeline ?? -1))
            {
                tie = true;
            }
        }

        if (primaries > 1)
        {
            var claims = new List<string>();
            for (var i = 0; i < raw.Count; i++)
            {
                if (raw[i].Reachable && raw[i].Running && raw[i].Role == MemberRole.Primary)
                    claims.Add($"{cluster.Members[i].Name} (timeline {raw[i].Timeline?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"})");
            }
            conflict = tie
                ? $"split brain: {string.Join(", ", claims)} all claim to be primary on the same newest timeline; no member gets writes until one steps down"
                : $"split brain: {string.Join(", ", claims)} claim to be primary; writes go to {cluster.Members[leader].Name}, the newest timeline";
            if (tie)
                leader = -1;
        }

        return ResolveReplicas(cluster, raw, resolved, leader);
    }

    private static int LeaderIndex(IReadOnlyList<MemberFacts> raw)
    {
        var leader = -1;
        for (var i = 0; i < raw.Count; i++)
        {
            if (raw[i].Reachable && raw[i].IsLeader)
            {
                if (leader >= 0)
                    return -1;
                leader = i;
            }
        }
        return leader;
    }

    private static MemberFacts[] ResolveReplicas(ClusterConfig cluster, IReadOnlyList<MemberFacts> raw, MemberFacts[] resolved, int leader)
    {
        var leaderFacts = leader >= 0 ? raw[leader] : null;
        for (var i = 0; i < raw.Count; i++)
        {
            var f = raw[i];
            if (i == leader)
            {
                resolved[i] = f with { IsLeader = true, LagBytes = 0 };
                continue;
            }
            var member = cluster.Members[i];
            ReplicationPeer? peer = null;
            if (leaderFacts is not null)
            {
                foreach (var p in leaderFacts.Replication)
                {
                    if (p.ApplicationName == member.Name || (p.ClientAddress is not null && p.ClientAddress == member.Host))
                    {
                        peer = p;
                        break;
                    }
                }
            }
            resolved[i] = f with
            {
                IsLeader = leader < 0 && f.IsLeader,
                LagBytes = f.Role == MemberRole.Replica ? Lag(leaderFacts?.Lsn, f) : null,
                IsSyncStandby = peer?.SyncState == "sync",
                IsQuorumStandby = peer?.SyncState == "quorum",
                ReplicationState = peer?.State,
            };
        }
        return resolved;
    }

    // Patroni's leader_optime: the newest of the leader's position and what the primary last told this replica.
    private static long? Lag(ulong? leaderLsn, MemberFacts replica)
    {
        if (replica.Lsn is not { } replay)
            return null;
        var newest = Math.Max(leaderLsn ?? 0, replica.ReceivedLsn ?? 0);
        if (newest == 0)
            return null;
        return newest > replay ? (long)(newest - replay) : 0;
    }
}
