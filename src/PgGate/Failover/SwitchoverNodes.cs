using System.Globalization;
using System.Net;
using PgGate.Config;

namespace PgGate.Failover;

/// <summary>Where the PgGate nodes of a cluster answer their admin API.</summary>
public static class SwitchoverNodes
{
    /// <summary>
    /// <paramref name="explicitNodes"/> (<c>host:port</c> or URLs) when given; otherwise one node beside every member, at the
    /// member's host and <c>admin.listen</c>'s port, which is how PgGate is deployed (one <c>pggate run --node</c> per member).
    /// </summary>
    public static IReadOnlyList<Uri> AdminAddresses(GateConfig config, ClusterConfig cluster, IReadOnlyList<string>? explicitNodes)
    {
        var list = new List<Uri>();
        if (explicitNodes is { Count: > 0 })
        {
            foreach (var n in explicitNodes)
                list.Add(ParseNode(n));
            return list;
        }
        var listen = config.Admin.Listen;
        if (string.IsNullOrEmpty(listen) || listen == "off")
        {
            throw new ConfigException(new SourceLocation(config.SourceFile, 0, 0), "admin.listen",
                "the admin API is off (admin.listen: off), so the nodes cannot be paused for a switchover: turn it on, or give --nodes");
        }
        var colon = listen.LastIndexOf(':');
        var port = int.Parse(colon < 0 ? listen : listen[(colon + 1)..], CultureInfo.InvariantCulture);
        foreach (var m in cluster.Members)
            list.Add(new Uri($"http://{HostPart(m.Host)}:{port}/"));
        return list;
    }

    public static Uri ParseNode(string node)
    {
        if (node.StartsWith("http://", StringComparison.Ordinal) || node.StartsWith("https://", StringComparison.Ordinal))
            return new Uri(node.EndsWith('/') ? node : node + "/");
        if (Uri.TryCreate("http://" + node + "/", UriKind.Absolute, out var uri) && !uri.IsDefaultPort)
            return uri;
        throw new ConfigException(SourceLocation.None, "--nodes", $"'{node}' is not a node admin address: give host:port, e.g. 10.10.10.11:9101");
    }

    private static string HostPart(string host) =>
        IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{host}]" : host;
}
