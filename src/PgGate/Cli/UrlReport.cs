using System.Text;
using PgGate.Config;

namespace PgGate.Cli;

/// <summary>
/// <c>pggate urls &lt;cluster&gt;</c>: every way to reach every service, as in Pigsty's combinations table —
/// by cluster name, VIP, instance name and instance address — plus multi-host URLs for libpq and
/// Npgsql that pick the primary or a standby themselves (<c>target_session_attrs</c>).
/// </summary>
public static class UrlReport
{
    public static string Render(ClusterConfig cluster, string user, string database, int poolerPort = 6432)
    {
        var sb = new StringBuilder();
        var ports = Ports(cluster, poolerPort, user);
        sb.Append("# cluster ").Append(cluster.Name).Append(": ").Append(cluster.Members.Count).Append(" members, services ")
          .Append(string.Join(", ", cluster.Services.Select(s => $"{s.Name} :{s.Port}"))).Append('\n');

        Section(sb, "cluster name (DNS follows the live primary)", cluster.Name, ports, database);
        if (cluster.Vip is { } vip)
            Section(sb, "cluster VIP (held by the primary's node)", vip, ports, database);
        foreach (var m in cluster.Members)
            Section(sb, $"instance name {m.Name}", m.Name, ports, database, m);
        foreach (var m in cluster.Members)
            Section(sb, $"instance address of {m.Name}", m.Host, ports, database, m);

        sb.Append("\n# smart clients: any node's port, the driver picks the right member\n");
        var hostsPg = string.Join(",", cluster.Members.Select(m => $"{m.Host}:{m.PgPort}"));
        var hostsPool = string.Join(",", cluster.Members.Select(m => $"{m.Host}:{poolerPort}"));
        sb.Append($"postgres://{user}@{hostsPool}/{database}?target_session_attrs=primary\n");
        sb.Append($"postgres://{user}@{hostsPool}/{database}?target_session_attrs=prefer-standby\n");
        sb.Append($"postgres://{user}@{hostsPg}/{database}?target_session_attrs=read-write\n");
        foreach (var s in cluster.Services)
        {
            var hosts = string.Join(",", cluster.Members.Select(m => $"{m.Host}:{s.Port}"));
            sb.Append($"postgres://{UserFor(s, user)}@{hosts}/{database}   # {s.Name} through any node\n");
        }
        var npgsqlHosts = string.Join(",", cluster.Members.Select(m => m.Host));
        sb.Append($"Host={npgsqlHosts};Port={poolerPort};Database={database};Username={user};Target Session Attributes=primary\n");
        sb.Append($"Host={npgsqlHosts};Port={poolerPort};Database={database};Username={user};Target Session Attributes=prefer-standby;Load Balance Hosts=true\n");
        return sb.ToString();
    }

    private static List<(int Port, string What, string User)> Ports(ClusterConfig cluster, int poolerPort, string user)
    {
        var list = new List<(int, string, string)>
        {
            (cluster.Members.Count > 0 ? cluster.Members[0].PgPort : 5432, "postgres, direct", user),
            (poolerPort, "pooler on that node", user),
        };
        foreach (var s in cluster.Services)
            list.Add((s.Port, $"{s.Name} service -> {s.Check} members, dest {s.Dest}", UserFor(s, user)));
        return list;
    }

    private static void Section(StringBuilder sb, string title, string host, List<(int Port, string What, string User)> ports, string database,
        MemberConfig? member = null)
    {
        sb.Append("\n# ").Append(title).Append('\n');
        foreach (var (port, what, user) in ports)
        {
            var note = member is not null && port == member.PgPort ? "postgres on this instance only, no routing" : what;
            sb.Append($"postgres://{user}@{host}:{port}/{database}").Append("   # ").Append(note).Append('\n');
        }
    }

    // Pigsty's habit: admins on the default service, ETL users on the offline one, the given user elsewhere.
    private static string UserFor(ServiceConfig service, string user) => service.Name switch
    {
        "default" when user == "test" => "dbuser_dba",
        "offline" when user == "test" => "dbuser_stats",
        _ => user,
    };
}
