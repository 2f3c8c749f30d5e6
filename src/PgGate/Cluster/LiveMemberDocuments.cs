using PgGate.Config;

namespace PgGate.Cluster;

/// <summary>
/// The documents service selectors run over: each member's configured variables with live facts laid
/// on top. <c>pg_role</c> and <c>role</c> follow the live role where a failover changed it (see
/// <see cref="LiveRoles"/>); the configured value stays readable as <c>configured_role</c>. Live keys:
/// <c>live_role</c>, <c>is_leader</c>, <c>reachable</c>, <c>lag_bytes</c>, <c>timeline</c>.
/// </summary>
public static class LiveMemberDocuments
{
    public static IReadOnlyList<IReadOnlyDictionary<string, object?>> Configured(ClusterConfig cluster)
    {
        var docs = new IReadOnlyDictionary<string, object?>[cluster.Members.Count];
        for (var i = 0; i < docs.Length; i++)
            docs[i] = cluster.Members[i].Vars;
        return docs;
    }

    public static IReadOnlyList<IReadOnlyDictionary<string, object?>> Live(ClusterView view)
    {
        var docs = new IReadOnlyDictionary<string, object?>[view.Members.Length];
        for (var i = 0; i < docs.Length; i++)
        {
            var m = view.Members[i];
            var doc = new Dictionary<string, object?>(m.Config.Vars);
            var effective = LiveRoles.Effective(m.Config.Role, m.Facts);
            doc["configured_role"] = m.Config.Role;
            doc["role"] = effective;
            doc["pg_role"] = effective;
            doc["live_role"] = LiveRoles.LiveName(m.Facts);
            doc["is_leader"] = m.Facts.Reachable && m.Facts.IsLeader;
            doc["reachable"] = m.Facts.Reachable;
            doc["lag_bytes"] = m.Facts.LagBytes;
            doc["timeline"] = m.Facts.Timeline;
            docs[i] = doc;
        }
        return docs;
    }
}
