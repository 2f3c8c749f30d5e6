using System.Globalization;
using System.Text;
using PgGate.Services.Selection;

namespace PgGate.Config;

/// <summary>
/// The text <c>pggate check-config</c> prints: for each cluster (or only those a node belongs to) the members and every service
/// with its bind address, destination, check, balance, limits, <c>default-server</c> options and its server list in HAProxy
/// order, computed from the configured roles (the static view; at run time live roles take over).
/// </summary>
public static class ConfigReport
{
    /// <param name="node">A member name or host; when given, only the clusters that node serves are shown.</param>
    /// <exception cref="ConfigException">The node is not a member of any cluster.</exception>
    public static string Render(GateConfig config, string? node = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var clusters = new List<ClusterConfig>();
        MemberConfig? self = null;
        foreach (var cluster in config.Clusters)
        {
            if (node is null)
            {
                clusters.Add(cluster);
                continue;
            }
            if (cluster.FindMember(node) is { } m)
            {
                self ??= m;
                clusters.Add(cluster);
            }
        }
        if (node is not null && clusters.Count == 0)
        {
            var known = new List<string>();
            foreach (var c in config.Clusters)
            {
                foreach (var m in c.Members)
                    known.Add(m.Name + " (" + m.Host + ")");
            }
            throw new ConfigException(new SourceLocation(config.SourceFile, 0, 0), "node",
                "node " + node + " is not a member of any cluster; known members: " + string.Join(", ", known));
        }

        var sb = new StringBuilder(4096);
        sb.Append("configuration ").Append(config.SourceFile).Append(" (")
            .Append(config.Format == ConfigFormat.PigstyInventory ? "Pigsty inventory" : "native pggate.yml").Append(")\n");
        if (self is not null)
            sb.Append("node ").Append(self.Name).Append(" (").Append(self.Host).Append(")\n");
        sb.Append("admin listen ").Append(config.Admin.Listen).Append('\n');

        foreach (var cluster in clusters)
            RenderCluster(sb, cluster, self);

        if (config.Warnings.Count > 0)
        {
            sb.Append('\n');
            foreach (var w in config.Warnings)
                sb.Append("warning: ").Append(w).Append('\n');
        }
        return sb.ToString();
    }

    private static void RenderCluster(StringBuilder sb, ClusterConfig cluster, MemberConfig? self)
    {
        var h = cluster.Health;
        sb.Append('\n');
        sb.Append("cluster ").Append(cluster.Name).Append("  [").Append(cluster.Location).Append("]\n");
        sb.Append("  health ").Append(h.Source.ToString().ToLowerInvariant()).Append(", rto ").Append(h.Rto)
            .Append(", check timeout ").Append(HaproxyTime.Format(h.CheckTimeout));
        if (h.Source == HealthSource.Patroni && h.Patroni.Ssl)
            sb.Append(", patroni over https");
        if (h.Source == HealthSource.Dcs)
            sb.Append(", etcd ").AppendJoin(" ", h.Dcs.Endpoints);
        sb.Append('\n');
        if (cluster.Vip is not null)
            sb.Append("  vip ").Append(cluster.Vip).Append('\n');
        sb.Append("  dest default = ").Append(cluster.DefaultServiceDest.ToString()).Append('\n');

        sb.Append("  members (configured roles):\n");
        foreach (var m in cluster.Members)
        {
            sb.Append("    ").Append(m.Name).Append(' ').Append(m.Host).Append(' ').Append(m.Role);
            if (m.OfflineQuery)
                sb.Append(" offline_query");
            sb.Append(" pg ").Append(Int(m.PgPort)).Append(" pooler ").Append(Int(m.PoolerPort))
                .Append(" patroni ").Append(Int(m.PatroniPort)).Append(" weight ").Append(Int(m.Weight));
            if (self is not null && ReferenceEquals(m, cluster.FindMember(self.Name)))
                sb.Append("  <- this node");
            sb.Append('\n');
        }
        sb.Append("  services run on ").Append(self is null ? "every member" : "this node").Append(":\n");

        var documents = new List<IReadOnlyDictionary<string, object?>>(cluster.Members.Count);
        foreach (var m in cluster.Members)
            documents.Add(m.Vars);

        foreach (var s in cluster.Services)
        {
            sb.Append("  service ").Append(cluster.Name).Append('-').Append(s.Name).Append("  [").Append(s.Location).Append("]\n");
            sb.Append("    bind ").Append(s.Ip).Append(':').Append(Int(s.Port))
                .Append("  dest ").Append(s.Dest.ToString())
                .Append("  check ").Append(s.Check)
                .Append("  balance ").Append(HaproxyConfigRenderer.BalanceName(s.Balance))
                .Append("  maxconn ").Append(Int(s.MaxConn));
            if (s.AllBackups)
                sb.Append("  allbackups");
            sb.Append('\n');
            sb.Append("    selector ").Append(s.Selector);
            if (s.Backup is not null)
                sb.Append("  backup ").Append(s.Backup);
            sb.Append('\n');
            sb.Append("    default-server ").Append(s.OptionsText).Append('\n');

            var plan = ServerPlan.Build(s, documents);
            if (plan.Count == 0)
                sb.Append("    (no server: neither the selector nor the backup selector matches a member)\n");
            foreach (var server in plan)
            {
                var m = cluster.FindMember(server.MemberName)!;
                sb.Append("    server ").Append(m.Name).Append(' ').Append(m.Host).Append(':').Append(Int(s.Dest.PortOn(m)))
                    .Append(" weight ").Append(Int(m.Weight));
                if (server.IsBackup)
                    sb.Append(" backup");
                sb.Append('\n');
            }
        }
    }

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);
}
