using System.Globalization;
using System.Net;

namespace PgGate.Config;

/// <summary>
/// Cross-checks that need the whole configuration: unique names, and no two listeners on one address.
/// Every member runs every service of its cluster (Pigsty's local placement), so a node's listeners are the services of
/// each cluster it is a member of, plus its members' own PostgreSQL, pooler and Patroni ports, plus the admin listener.
/// Clusters that share no node may reuse ports (Pigsty's pg-meta and pg-test both serve 5433).
/// </summary>
internal static class ConfigValidator
{
    public static void Validate(IReadOnlyList<ClusterDraft> clusters, AdminConfig admin, Yaml.ConfigNode? adminListenNode)
    {
        var clusterNames = new Dictionary<string, ClusterDraft>(StringComparer.Ordinal);
        foreach (var cluster in clusters)
        {
            if (!clusterNames.TryAdd(cluster.Config.Name, cluster))
            {
                var first = clusterNames[cluster.Config.Name];
                throw cluster.NameNode.Error("cluster " + cluster.Config.Name + " is defined twice (first at " + first.NameNode.Location + ")");
            }
            CheckMembers(cluster.Config.Name, cluster.Members);
            CheckServiceNames(cluster);
        }
        CheckListeners(clusters, admin, adminListenNode);
    }

    /// <summary>Unique names and endpoints; the readers call it before evaluating selectors, which identify members by name.</summary>
    public static void CheckMembers(string clusterName, IReadOnlyList<MemberDraft> members)
    {
        var names = new Dictionary<string, MemberDraft>(StringComparer.Ordinal);
        var endpoints = new Dictionary<(string Host, int Port), (MemberDraft Member, string What)>();
        foreach (var member in members)
        {
            var m = member.Config;
            if (!names.TryAdd(m.Name, member))
            {
                throw member.NameNode.Error("member name " + m.Name + " is already used in cluster " + clusterName + " (at " +
                    names[m.Name].NameNode.Location + "); member names must be unique");
            }
            // Members may share a host only on different ports (several instances on one test machine).
            Claim(endpoints, member, m.PgPort, "PostgreSQL port");
            Claim(endpoints, member, m.PoolerPort, "pooler port");
            Claim(endpoints, member, m.PatroniPort, "Patroni port");
        }
    }

    private static void Claim(Dictionary<(string, int), (MemberDraft Member, string What)> endpoints, MemberDraft member, int port, string what)
    {
        var key = (member.Config.Host, port);
        if (endpoints.TryGetValue(key, out var owner))
        {
            var same = ReferenceEquals(owner.Member, member);
            throw member.HostNode.Error(member.Config.Host + ":" + port.ToString(CultureInfo.InvariantCulture) + " is both the " + what +
                " of " + member.Config.Name + " and the " + owner.What + " of " + (same ? "the same member" : owner.Member.Config.Name + " (" +
                owner.Member.HostNode.Location + ")") + "; each member needs its own address or distinct ports");
        }
        endpoints[key] = (member, what);
    }

    private static void CheckServiceNames(ClusterDraft cluster)
    {
        var names = new Dictionary<string, ParsedService>(StringComparer.Ordinal);
        foreach (var service in cluster.Services)
        {
            if (!names.TryAdd(service.Config.Name, service))
            {
                throw service.NameNode.Error("service " + service.Config.Name + " is defined twice in cluster " + cluster.Config.Name +
                    " (first at " + names[service.Config.Name].NameNode.Location + "); service names must be unique in a cluster");
            }
        }
    }

    private static void CheckListeners(IReadOnlyList<ClusterDraft> clusters, AdminConfig admin, Yaml.ConfigNode? adminListenNode)
    {
        var (adminIp, adminPort) = SplitListen(admin.Listen);

        // The nodes of each cluster, and so the clusters each node serves.
        var clustersByHost = new Dictionary<string, List<ClusterDraft>>(StringComparer.Ordinal);
        foreach (var cluster in clusters)
        {
            foreach (var member in cluster.Members)
            {
                if (!clustersByHost.TryGetValue(member.Config.Host, out var list))
                    clustersByHost[member.Config.Host] = list = [];
                if (!list.Contains(cluster))
                    list.Add(cluster);
            }
        }

        foreach (var (host, served) in clustersByHost)
        {
            var bound = new List<Listener>();
            foreach (var cluster in served)
            {
                foreach (var member in cluster.Members)
                {
                    var m = member.Config;
                    if (m.Host != host)
                        continue;
                    Bind(bound, new Listener(host, m.PgPort, "the PostgreSQL port of " + m.Name, member.HostNode), host);
                    Bind(bound, new Listener(host, m.PoolerPort, "the pooler port of " + m.Name, member.HostNode), host);
                    Bind(bound, new Listener(host, m.PatroniPort, "the Patroni port of " + m.Name, member.HostNode), host);
                }
            }
            if (adminPort > 0 && adminListenNode is { } adminNode)
                Bind(bound, new Listener(adminIp, adminPort, "the admin listener " + admin.Listen, adminNode), host);
            else if (adminPort > 0)
                bound.Add(new Listener(adminIp, adminPort, "the admin listener " + admin.Listen + " (the default)", null));

            foreach (var cluster in served)
            {
                foreach (var service in cluster.Services)
                {
                    var s = service.Config;
                    Bind(bound, new Listener(NormalizeIp(s.Ip), s.Port, "the port of service " + cluster.Config.Name + "-" + s.Name,
                        service.PortNode), host);
                }
            }
        }
    }

    private sealed record Listener(string Ip, int Port, string Owner, Yaml.ConfigNode? Node);

    private static void Bind(List<Listener> bound, Listener listener, string host)
    {
        foreach (var other in bound)
        {
            if (other.Port != listener.Port || !Overlaps(listener.Ip, other.Ip))
                continue;
            var where = other.Node is { } n ? " (" + n.Location + ")" : "";
            var problem = listener.Ip + ":" + listener.Port.ToString(CultureInfo.InvariantCulture) + " on node " + host + " would be " +
                listener.Owner + ", but it is already " + other.Owner + where + "; give one of them another port";
            throw listener.Node is { } node ? node.Error(problem) : new ConfigException(SourceLocation.None, "", problem);
        }
        bound.Add(listener);
    }

    private static (string Ip, int Port) SplitListen(string listen)
    {
        var colon = listen.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(listen.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
            return ("*", 0);
        return (NormalizeIp(listen[..colon].Trim('[', ']')), port);
    }

    private static string NormalizeIp(string ip) => ip is "*" or "0.0.0.0" or "::" ? "*" : ip;

    /// <summary>Two binds collide when either is the wildcard or both name the same address.</summary>
    private static bool Overlaps(string a, string b)
    {
        if (a == "*" || b == "*" || a == b)
            return true;
        return IPAddress.TryParse(a, out var x) && IPAddress.TryParse(b, out var y) && x.Equals(y);
    }
}
