using System.Globalization;
using System.Text;
using PgGate.Services.Selection;

namespace PgGate.Config;

/// <summary>Choices for <see cref="HaproxyConfigRenderer"/>; the defaults give byte-for-byte what Pigsty renders.</summary>
public sealed record HaproxyRenderOptions
{
    /// <summary>
    /// Rewrite decimal timers (<c>0.5s</c>, <c>1.5s</c>, from Pigsty's fast and safe RTO plans) as milliseconds. HAProxy (2.6 and
    /// later alike) rejects decimals, so Pigsty's own rendering of those plans fails <c>haproxy -c</c>; benchmarks need this on.
    /// </summary>
    public bool HaproxyCompatibleTimes { get; init; }

    /// <summary>Add <c>option allbackups</c> to services with <c>allbackups: true</c> (a PgGate field; Pigsty has none).</summary>
    public bool IncludeAllBackups { get; init; }
}

/// <summary>Settings of Pigsty's main <c>haproxy.cfg</c> (roles/haproxy/templates/haproxy.cfg.j2 and its defaults).</summary>
public sealed record HaproxyMainSettings
{
    public required string NodeName { get; init; }
    public required string InventoryHostname { get; init; }
    public string PidFile { get; init; } = "/var/run/haproxy.pid";
    public string StatsSocket { get; init; } = "/var/run/haproxy.sock";
    public string ClientTimeout { get; init; } = "24h";
    public string ServerTimeout { get; init; } = "24h";
    public string AdminUsername { get; init; } = "admin";
    public string AdminPassword { get; init; } = "pigsty";
    public int ExporterPort { get; init; } = 9101;
    public string MetricsPath { get; init; } = "/metrics";
}

/// <summary>
/// Renders the HAProxy configuration Pigsty would install for a configuration: one <c>/etc/haproxy/conf.d/&lt;cls&gt;-&lt;svc&gt;.cfg</c>
/// per service, exactly as roles/pgsql/templates/service.cfg produces it with Ansible (trim_blocks), including its
/// trailing spaces and blank lines, plus the main <c>haproxy.cfg</c>. Benchmarks use it to run a real HAProxy like Pigsty does.
/// </summary>
public static class HaproxyConfigRenderer
{
    private const string Rule = "#---------------------------------------------------------------------\n";

    /// <summary>Every service file of <paramref name="cluster"/> as rendered on the node whose inventory hostname is given.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> RenderServiceFiles(ClusterConfig cluster, string inventoryHostname,
        HaproxyRenderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var files = new List<KeyValuePair<string, string>>(cluster.Services.Count);
        foreach (var service in cluster.Services)
            files.Add(new(cluster.Name + "-" + service.Name + ".cfg", RenderService(cluster, service, inventoryHostname, options)));
        return files;
    }

    /// <summary>One service file, as Pigsty's <c>service.cfg</c> template renders it on <paramref name="inventoryHostname"/>.</summary>
    public static string RenderService(ClusterConfig cluster, ServiceConfig service, string inventoryHostname, HaproxyRenderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(service);
        options ??= new HaproxyRenderOptions();

        var documents = new List<IReadOnlyDictionary<string, object?>>(cluster.Members.Count);
        foreach (var m in cluster.Members)
            documents.Add(m.Vars);
        var members = Resolve(cluster, MemberSelector.Compile(service.Selector, service.Location, service.Name + ".selector").Select(documents));
        var backups = service.Backup is null
            ? []
            : Resolve(cluster, MemberSelector.Compile(service.Backup, service.Location, service.Name + ".backup").Select(documents));
        var backupHosts = new HashSet<string>(StringComparer.Ordinal);
        foreach (var b in backups)
            backupHosts.Add(b.Host);
        var memberHosts = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in members)
            memberHosts.Add(m.Host);

        var listen = cluster.Name + "-" + service.Name;
        var port = Int(service.Port);
        var sb = new StringBuilder(1024);
        sb.Append("# Ansible managed\n");
        sb.Append(Rule);
        sb.Append("# service: ").Append(listen).Append(" @ ").Append(inventoryHostname).Append(':').Append(port).Append('\n');
        sb.Append(Rule);
        sb.Append("# service instances ").AppendJoin(", ", members.Select(m => m.Host)).Append('\n');
        sb.Append("# service backups   ").AppendJoin(", ", backups.Select(m => m.Host)).Append('\n');
        sb.Append("listen ").Append(listen).Append('\n');
        sb.Append("    bind ").Append(service.Ip).Append(':').Append(port).Append('\n');
        sb.Append("    mode tcp\n");
        sb.Append("    maxconn ").Append(Int(service.MaxConn)).Append('\n');
        sb.Append("    balance ").Append(BalanceName(service.Balance)).Append('\n');
        sb.Append("    option httpchk\n");
        sb.Append("    option http-keep-alive\n");
        if (options.IncludeAllBackups && service.AllBackups)
            sb.Append("    option allbackups\n");
        sb.Append("    http-check send meth OPTIONS uri ").Append(service.Check).Append('\n');
        sb.Append("    http-check expect status 200\n");
        sb.Append("    default-server ").Append(options.HaproxyCompatibleTimes ? CompatibleTimes(service.OptionsText) : service.OptionsText).Append('\n');
        sb.Append('\n');
        sb.Append("    # servers\n");
        foreach (var m in members)
        {
            ServerLine(sb, cluster, service, m);
            sb.Append(' ');
            if (backupHosts.Contains(m.Host))
                sb.Append("backup");
            sb.Append('\n');
        }
        foreach (var b in backups)
        {
            // The template's second loop leaves a blank line per backup, emitted or not.
            if (!memberHosts.Contains(b.Host))
            {
                ServerLine(sb, cluster, service, b);
                sb.Append(" backup\n");
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Pigsty's main <c>/etc/haproxy/haproxy.cfg</c> (global, defaults, stats page and Prometheus exporter).</summary>
    public static string RenderMain(HaproxyMainSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return $$"""
            # Ansible managed
            # {{settings.NodeName}} @ {{settings.InventoryHostname}}

            #=====================================================================
            # Global settings
            # Document: https://www.haproxy.org/download/3.4/doc/configuration.txt
            #=====================================================================
            global
                user        haproxy
                group       haproxy
                node        {{settings.NodeName}}
                pidfile     {{settings.PidFile}}
                #chroot     /var/lib/haproxy            # if chroot, change stats socket above
                stats socket {{settings.StatsSocket}} mode 600 level admin
                # spread-checks 3                       # add randomness in check interval
                # quiet                                 # Do not display any message during startup
                maxconn     65535                       # maximum per-process number of concurrent connections

            #---------------------------------------------------------------------
            # default settings
            #---------------------------------------------------------------------
            defaults
                #log               global
                mode               tcp
                retries            3            # max retry connect to upstream
                timeout queue      3s           # maximum time to wait in the queue for a connection slot to be free
                timeout connect    3s           # maximum time to wait for a connection attempt to a server to succeed
                timeout client     {{settings.ClientTimeout}}           # client connection timeout
                timeout server     {{settings.ServerTimeout}}           # server connection timeout
                timeout check      3s           # health check timeout

            #---------------------------------------------------------------------
            # users and auth
            #---------------------------------------------------------------------
            userlist stats-auth
                group admin users {{settings.AdminUsername}}
                user {{settings.AdminUsername}}  insecure-password {{settings.AdminPassword}}
                group readonly users haproxy
                user haproxy insecure-password haproxy

            #---------------------------------------------------------------------
            # stats and exporter
            #---------------------------------------------------------------------
            # https://www.haproxy.com/blog/exploring-the-haproxy-stats-page/
            listen stats                                # both frontend and a backend for statistics
                #option httplog                         # log http activity
                bind *:{{Int(settings.ExporterPort)}}  # default haproxy exporter port
                mode  http                              # server in http mode
                stats enable                            # enable stats page on http://127.0.0.1:9101
                stats hide-version
                stats uri /haproxy/{{settings.NodeName}}/
                stats refresh 30s                       # refresh stats page every 30 seconds
                stats show-node
                acl AUTH       http_auth(stats-auth)
                acl AUTH_ADMIN http_auth_group(stats-auth) admin
                stats http-request auth unless AUTH
                stats admin if AUTH_ADMIN
                http-request use-service prometheus-exporter if { path {{settings.MetricsPath}} }

            """;
    }

    private static void ServerLine(StringBuilder sb, ClusterConfig cluster, ServiceConfig service, MemberConfig m)
    {
        // Pigsty's HAProxy sends a pooled service to PgBouncer on the member; PgGate pools it itself (dest pool).
        sb.Append("    server ").Append(m.Name).Append(' ').Append(m.Host).Append(':').Append(Int(service.Dest.Kind == DestinationKind.Pool ? m.PoolerPort : service.Dest.PortOn(m)));
        if (cluster.Health.Patroni.Ssl)
            sb.Append(" check-ssl ca-file ").Append(cluster.Health.Patroni.CaFile ?? PigstyDefaults.PatroniCaFile);
        sb.Append(" check port ").Append(Int(m.PatroniPort)).Append(" weight ").Append(Int(m.Weight));
    }

    private static List<MemberConfig> Resolve(ClusterConfig cluster, IReadOnlyList<string> names)
    {
        var list = new List<MemberConfig>(names.Count);
        foreach (var name in names)
            list.Add(cluster.FindMember(name) ?? throw new InvalidOperationException("selector yielded unknown member " + name));
        return list;
    }

    internal static string BalanceName(BalanceAlgorithm balance) => balance switch
    {
        BalanceAlgorithm.LeastConn => "leastconn",
        BalanceAlgorithm.Random => "random",
        _ => "roundrobin",
    };

    private static string CompatibleTimes(string optionsText)
    {
        var words = optionsText.Split(' ');
        for (var i = 1; i < words.Length; i++)
        {
            if (words[i - 1] is "inter" or "fastinter" or "downinter" or "slowstart" &&
                words[i].Contains('.', StringComparison.Ordinal) && HaproxyTime.TryParse(words[i], out var value, out _))
            {
                words[i] = HaproxyTime.Format(value);
            }
        }
        return string.Join(' ', words);
    }

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);
}
