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
    public long Version { get; }
    public DateTimeOffset PublishedAt { get; }

    /// <summary>Members in configured order (backup order depends on it).</summary>
    public ImmutableArray<MemberView> Members { get; }

    public string Name => Config.Name;

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

    public bool IsUp(string member, CheckSpec spec) => FindMember(member)?.FindCheck(spec)?.IsUp ?? false;
}
