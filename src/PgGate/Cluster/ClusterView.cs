using System.Collections.Immutable;
using PgGate.Config;

namespace PgGate.Cluster;

/// <summary>
/// An immutable snapshot of what the monitor knows about a cluster. A new one is published on every
/// change; readers take the current reference and never lock.
/// </summary>
public sealed class ClusterView
{
    public ClusterView(ClusterConfig config, long version, DateTimeOffset publishedAt, ImmutableArray<MemberView> members)
    {
        Config = config;
        Version = version;
        PublishedAt = publishedAt;
        Members = members;
    }

    public ClusterConfig Config { get; }

    /// <summary>
    /// The member the DCS leader key names now (the <c>dcs</c> source), whether or not it passes its leader checks yet:
    /// while Patroni promotes it, pooled services open server connections to it ahead of the first write.
    /// </summary>
    public string? LeaderKeyHolder { get; init; }

    public long Version { get; }
    public DateTimeOffset PublishedAt { get; }

    /// <summary>Members in configured order (backup order depends on it).</summary>
    public ImmutableArray<MemberView> Members { get; }

    public string Name => Config.Name;

    /// <summary>This view with <see cref="LeaderKeyHolder"/> set (views are immutable; for tests and tools).</summary>
    public ClusterView WithLeaderKeyHolder(string? holder) =>
        new(Config, Version, PublishedAt, Members) { LeaderKeyHolder = holder };

    public MemberView? FindMember(string name)
    {
        foreach (var m in Members)
        {
            if (m.Name == name)
                return m;
        }
        return null;
    }

    /// <summary>The member that holds leadership now, if exactly one does.</summary>
    public MemberView? Leader
    {
        get
        {
            MemberView? leader = null;
            foreach (var m in Members)
            {
                if (m.Facts.IsLeader && m.Facts.Reachable)
                {
                    if (leader is not null)
                        return null;
                    leader = m;
                }
            }
            return leader;
        }
    }

    /// <summary>
    /// The member writes go to: the one passing the leader checks (<c>/primary</c>, <c>/leader</c>...) of this cluster's
    /// services, when exactly one does; without such a check, <see cref="Leader"/>. A switchover waits for the new
    /// leader here, because this, not the member's own claim, is what routes writes.
    /// </summary>
    public MemberView? WriteLeader
    {
        get
        {
            MemberView? leader = null;
            var anyLeaderCheck = false;
            foreach (var m in Members)
            {
                var passes = false;
                foreach (var c in m.Checks)
                {
                    if (!c.Spec.Path.IsLeaderPath)
                        continue;
                    anyLeaderCheck = true;
                    passes |= c.IsUp;
                }
                if (passes)
                {
                    if (leader is not null)
                        return null;
                    leader = m;
                }
            }
            return anyLeaderCheck ? leader : Leader;
        }
    }

    public bool IsUp(string member, CheckSpec spec) => FindMember(member)?.FindCheck(spec)?.IsUp ?? false;
}
