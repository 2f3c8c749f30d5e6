using PgGate.Config.Yaml;

namespace PgGate.Config;

/// <summary>Identity rules both formats share (Pigsty's <c>pg_id</c> assertions).</summary>
internal static class ClusterRules
{
    /// <summary>Exactly one member has the configured role <c>primary</c>; <paramref name="roles"/> pairs each member with where its role was written.</summary>
    public static void CheckOnePrimary(string cluster, IReadOnlyList<(MemberConfig Member, ConfigNode RoleNode)> roles, ConfigNode clusterNode)
    {
        (MemberConfig Member, ConfigNode RoleNode)? primary = null;
        foreach (var entry in roles)
        {
            if (entry.Member.Role != "primary")
                continue;
            if (primary is { } first)
            {
                throw entry.RoleNode.Error("cluster " + cluster + " has more than one primary: " + first.Member.Name + " (" +
                    first.RoleNode.Location + ") and " + entry.Member.Name + "; exactly one member must have role primary");
            }
            primary = entry;
        }
        if (primary is null)
        {
            var listed = new List<string>(roles.Count);
            foreach (var (m, _) in roles)
                listed.Add(m.Name + " " + m.Role);
            throw clusterNode.Error("cluster " + cluster + " has no primary; exactly one member must have role primary (members: " +
                string.Join(", ", listed) + ")");
        }
    }
}
