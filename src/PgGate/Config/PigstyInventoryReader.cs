using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using PgGate.Config.Yaml;

namespace PgGate.Config;

/// <summary>
/// Reads a Pigsty inventory (an Ansible YAML inventory) unchanged: every host whose merged variables have
/// <c>pg_cluster</c> is a member of that cluster, named <c>&lt;pg_cluster&gt;-&lt;pg_seq&gt;</c>, in hostvars order; variables
/// Pigsty defaults are defaulted the same way; identity is validated like Pigsty's <c>pg_id</c> role.
/// </summary>
internal static partial class PigstyInventoryReader
{
    /// <summary>Variables every member of a cluster must agree on (Pigsty renders them per node; PgGate serves one view).</summary>
    private static readonly string[] ClusterVars =
    [
        "pg_default_service_dest", "pg_default_services", "pg_services", "pg_rto", "pg_rto_plan", "pg_vip_enabled", "pg_vip_address",
        "patroni_ssl_enabled", "patroni_username", "patroni_password", "pg_monitor_username", "pg_monitor_password",
        "pggate_health_source", "etcd_port", "pg_namespace", "pg_etcd_password",
    ];

    private sealed record HostEntry(AnsibleInventory.Host Host, Dictionary<string, ConfigNode> Vars);

    public static GateConfig Read(string yaml, string file)
    {
        var rootNode = YamlLoader.Load(yaml, file)
            ?? throw new ConfigException(new SourceLocation(file, 0, 0), "", "the inventory is empty; expected 'all:' with children, hosts and vars");
        var warnings = new List<string>();
        var root = new ConfigNode(rootNode, "", file, ScalarSchema.Yaml11);
        var inventory = AnsibleInventory.Parse(root, warnings);

        var clusterOrder = new List<string>();
        var byCluster = new Dictionary<string, List<HostEntry>>(StringComparer.Ordinal);
        var allPgHosts = new List<HostEntry>();
        foreach (var host in inventory.Hosts)
        {
            var vars = inventory.MergedVars(host);
            if (!vars.TryGetValue("pg_cluster", out var clusterNode) || clusterNode.IsNull)
                continue;
            var cluster = ReadClusterName(clusterNode);
            if (!byCluster.TryGetValue(cluster, out var list))
            {
                byCluster[cluster] = list = [];
                clusterOrder.Add(cluster);
            }
            var entry = new HostEntry(host, vars);
            list.Add(entry);
            allPgHosts.Add(entry);
        }
        if (clusterOrder.Count == 0)
        {
            throw root.Error("no host has pg_cluster, so the inventory defines no PostgreSQL cluster; Pigsty defines one as " +
                "all.children.<cluster>: { hosts: { <ip>: { pg_seq: 1, pg_role: primary } }, vars: { pg_cluster: <cluster> } }");
        }

        var drafts = new List<ClusterDraft>(clusterOrder.Count);
        foreach (var cluster in clusterOrder)
            drafts.Add(ReadCluster(cluster, byCluster[cluster], inventory, warnings));

        var exporterPortNode = Consistent(allPgHosts, "haproxy_exporter_port", "every PostgreSQL host");
        var admin = new AdminConfig
        {
            Listen = "*:" + (exporterPortNode is { } ep ? Int(ep, 1, 65535, "a port number 1-65535") : 9101).ToString(CultureInfo.InvariantCulture),
        };
        // PgGate's own variables (Pigsty has none for this): credentials for the admin API's write endpoints.
        var adminUser = Consistent(allPgHosts, "pggate_admin_username", "every PostgreSQL host");
        var adminPassword = Consistent(allPgHosts, "pggate_admin_password", "every PostgreSQL host");
        if ((adminUser is null) != (adminPassword is null))
        {
            throw (adminUser ?? adminPassword)!.Value.Error(
                "pggate_admin_username and pggate_admin_password go together (HTTP Basic credentials for the admin API); set both or neither");
        }
        if (adminUser is not null)
            admin = admin with { Username = Str(adminUser.Value, "a user name"), Password = new SecretSource { Value = Str(adminPassword!.Value, "a password") } };

        ConfigValidator.Validate(drafts, admin, exporterPortNode);
        var clusters = new List<ClusterConfig>(drafts.Count);
        foreach (var d in drafts)
            clusters.Add(d.Config);
        return new GateConfig
        {
            Clusters = clusters,
            Admin = admin,
            SourceFile = file,
            Format = ConfigFormat.PigstyInventory,
            Warnings = warnings,
        };
    }

    private static string ReadClusterName(ConfigNode node)
    {
        NoJinja(node);
        if (!node.IsScalar || node.ScalarValue() is not string name)
            throw node.Expected("a cluster name string such as pg-test (Pigsty: pg_cluster is string)");
        if (!ClusterName().IsMatch(name) || name == "root")
            throw node.Expected("a cluster name matching ^[A-Za-z0-9-]+$ other than 'root' (Pigsty's pg_id rule)");
        return name;
    }

    private static ClusterDraft ReadCluster(string name, List<HostEntry> hosts, AnsibleInventory inventory, List<string> warnings)
    {
        var clusterNode = hosts[0].Vars["pg_cluster"];
        foreach (var varName in ClusterVars)
            Consistent(hosts, varName, "every member of " + name);
        var vars = hosts[0].Vars;

        // Health and timers first: services inherit them.
        var rtoPlan = ReadRtoPlan(vars, name, warnings, out var planNode);
        var checkTimeout = TimeSpan.FromSeconds(3);
        var defaultOptionsText = rtoPlan.OptionsText;
        var defaultOptions = ServerOptionsSyntax.Parse(defaultOptionsText, planNode?.Location ?? clusterNode.Location,
            planNode?.Path ?? clusterNode.Path, checkTimeout);

        var defaultDest = Get(vars, "pg_default_service_dest") is { } dd
            ? ServiceReader.ReadDest(dd, defaultDest: null, pigsty: true, warnings)
            : ServiceDestination.Pgbouncer;

        var members = new List<MemberConfig>(hosts.Count);
        var memberDrafts = new List<MemberDraft>(hosts.Count);
        var roles = new List<(MemberConfig, ConfigNode)>(hosts.Count);
        var seqs = new Dictionary<long, (string Member, ConfigNode Node)>();
        var hiddenKeys = new Dictionary<string, ConfigNode>(StringComparer.Ordinal);
        foreach (var entry in hosts)
        {
            var member = ReadMember(name, entry, seqs, hiddenKeys, warnings, out var draft, out var roleNode);
            members.Add(member);
            memberDrafts.Add(draft);
            roles.Add((member, roleNode));
        }
        foreach (var (key, node) in hiddenKeys)
        {
            warnings.Add(node.Location + ": " + node.Path + ": in cluster " + name + "'s selector documents PgGate's own '" + key +
                "' hides this variable (PgGate's keys: " + string.Join(", ", MemberDocument.CanonicalKeys) + ")");
        }
        ConfigValidator.CheckMembers(name, memberDrafts);
        ClusterRules.CheckOnePrimary(name, roles, clusterNode);

        var health = ReadHealth(name, vars, rtoPlan.Name, checkTimeout, inventory, clusterNode);

        var defaults = new ServiceDefaults(defaultDest, defaultOptionsText, defaultOptions, checkTimeout);
        var services = new List<ParsedService>();
        if (Get(vars, "pg_default_services") is { } defaultServices)
        {
            foreach (var item in defaultServices.AsList("a list of service definitions"))
                services.Add(ServiceReader.Read(item, defaults, pigsty: true, warnings));
        }
        else
        {
            services.AddRange(ServiceReader.ReadPigstyDefaults(defaults, clusterNode.Location, "pg_default_services", pigsty: true, warnings));
        }
        if (Get(vars, "pg_services") is { } extraServices)
        {
            foreach (var item in extraServices.AsList("a list of service definitions"))
                services.Add(ServiceReader.Read(item, defaults, pigsty: true, warnings));
        }
        SelectorCheck.Check(services, members);

        var pooler = ReadPooler(name, hosts, clusterNode);
        defaultDest = PoolInsteadOfPgbouncer(defaultDest, pooler);
        for (var i = 0; i < services.Count; i++)
        {
            var dest = PoolInsteadOfPgbouncer(services[i].Config.Dest, pooler);
            if (dest != services[i].Config.Dest)
                services[i] = services[i] with { Config = services[i].Config with { Dest = dest } };
        }

        string? vip = null;
        if (Get(vars, "pg_vip_enabled") is { } vipEnabled && AnsibleBool(vipEnabled))
        {
            var addressNode = Get(vars, "pg_vip_address");
            var address = addressNode is { } an ? Str(an, "an address such as 10.10.10.3/24") : "127.0.0.1/24";
            var ip = address.Split('/')[0];
            if (!IPAddress.TryParse(ip, out _))
                throw (addressNode ?? vipEnabled).Expected("pg_vip_address as <ipv4>/<mask>, e.g. 10.10.10.3/24");
            vip = ip;
        }

        var serviceConfigs = new List<ServiceConfig>(services.Count);
        foreach (var s in services)
            serviceConfigs.Add(s.Config);
        var config = new ClusterConfig
        {
            Name = name,
            Members = members,
            Health = health,
            Services = serviceConfigs,
            Vip = vip,
            DefaultServiceDest = defaultDest,
            Pooler = pooler,
            Location = clusterNode.Location,
        };
        return new ClusterDraft(config, clusterNode, memberDrafts, services);
    }

    private static MemberConfig ReadMember(string cluster, HostEntry entry, Dictionary<long, (string Member, ConfigNode Node)> seqs,
        Dictionary<string, ConfigNode> hiddenKeys, List<string> warnings, out MemberDraft draft, out ConfigNode roleNode)
    {
        var host = entry.Host;
        var vars = entry.Vars;
        const string Required = "Pigsty requires pg_cluster, a numeric pg_seq and a valid pg_role on every member";

        var seqNode = Get(vars, "pg_seq") ?? throw host.KeyNode.Error("host " + host.Name + " is in cluster " + cluster + " but has no pg_seq; " + Required);
        long seq;
        string seqText;
        switch (seqNode.IsScalar ? seqNode.ScalarValue() : null)
        {
            case long l when l >= 0:
                seq = l;
                seqText = l.ToString(CultureInfo.InvariantCulture);
                break;
            case string s when Digits().IsMatch(s) && long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed):
                seq = parsed;
                seqText = s;
                break;
            default:
                throw seqNode.Expected("a numeric pg_seq such as 1");
        }
        if (seq > int.MaxValue)
            throw seqNode.Expected("a pg_seq below 2147483648");
        var name = cluster + "-" + seqText;
        if (seqs.TryGetValue(seq, out var taken))
        {
            throw seqNode.Error("pg_seq " + seqText + " of host " + host.Name + " is already used by " + taken.Member + " (" + taken.Node.Location +
                "); pg_seq must be unique within cluster " + cluster);
        }
        seqs[seq] = (name, seqNode);

        roleNode = Get(vars, "pg_role") ?? throw host.KeyNode.Error("host " + host.Name + " is in cluster " + cluster + " but has no pg_role; " + Required);
        var role = roleNode.IsScalar ? roleNode.Text : "";
        if (roleNode.ScalarValue() is not string || !PigstyDefaults.Roles.Contains(role))
            throw roleNode.Expected("a pg_role: " + string.Join(", ", PigstyDefaults.Roles));

        var offlineNode = Get(vars, "pg_offline_query");
        var offline = offlineNode is { } on && AnsibleBool(on);
        if (offlineNode is { } o && offline != JmesPathTruthy(o.ToPlain()))
        {
            warnings.Add(o.Location + ": " + o.Path + ": pg_offline_query " + o.Describe() + " reads as " + (offline ? "true" : "false") +
                " in Pigsty's templates but as " + (offline ? "false" : "true") + " in its JMESPath selectors (PgGate's selectors follow " +
                "Pigsty's); write true or false unquoted");
        }

        var member = new MemberConfig
        {
            Name = name,
            Host = host.Name,
            Role = role,
            Seq = (int)seq,
            OfflineQuery = offline,
            Weight = Get(vars, "pg_weight") is { } w ? Int(w, 0, 256, "a pg_weight 0-256") : PigstyDefaults.Weight,
            PgPort = Get(vars, "pg_port") is { } pp ? Int(pp, 1, 65535, "a port number 1-65535") : PigstyDefaults.PgPort,
            PoolerPort = Get(vars, "pgbouncer_port") is { } bp ? Int(bp, 1, 65535, "a port number 1-65535") : PigstyDefaults.PgbouncerPort,
            PatroniPort = Get(vars, "patroni_port") is { } ap ? Int(ap, 1, 65535, "a port number 1-65535") : PigstyDefaults.PatroniPort,
            Location = host.KeyNode.Location,
        };

        // The selector document is the host's hostvars as Pigsty's json_query sees them, plus pg_id's pg_instance fact.
        var doc = new Dictionary<string, object?>(vars.Count + 12, StringComparer.Ordinal);
        foreach (var (key, value) in vars)
            doc[key] = value.ToPlain();
        doc["inventory_hostname"] = host.Name;
        doc["pg_instance"] = name;
        foreach (var key in MemberDocument.CanonicalKeys)
        {
            if (vars.TryGetValue(key, out var hidden))
                hiddenKeys.TryAdd(key, hidden);
        }
        MemberDocument.AddCanonical(doc, cluster, member);
        member = member with { Vars = doc };

        draft = new MemberDraft(member, seqNode, host.KeyNode);
        return member;
    }

    private static RtoPlan ReadRtoPlan(Dictionary<string, ConfigNode> vars, string cluster, List<string> warnings, out ConfigNode? planNode)
    {
        planNode = Get(vars, "pg_rto_plan");
        var rtoNode = Get(vars, "pg_rto");
        var requested = rtoNode is { IsScalar: true } r && r.ScalarValue() is string s ? s : null;

        if (planNode is not { } plan)
        {
            if (requested is not null && RtoPlan.PigstyDefaults.TryGetValue(requested, out var known))
                return known;
            if (rtoNode is { } rn)
                warnings.Add(rn.Location + ": " + rn.Path + ": pg_rto " + rn.Describe() + " is not a plan of pg_rto_plan (fast, norm, safe, wide); " +
                    "Pigsty falls back to norm, and so does PgGate");
            return RtoPlan.PigstyDefaults[RtoPlan.DefaultName];
        }

        var map = plan.AsMap("a mapping of plan name to [ttl, loop, retry, start, margin, inter, fastinter, downinter, rise, fall]");
        var mode = requested is not null && map.Contains(requested) ? requested : RtoPlan.DefaultName;
        if (mode != requested && rtoNode is { } rtoGiven)
        {
            warnings.Add(rtoGiven.Location + ": " + rtoGiven.Path + ": pg_rto " + rtoGiven.Describe() + " is not a plan of pg_rto_plan; " +
                "Pigsty falls back to norm, and so does PgGate");
        }
        if (!map.TryGet(mode, out var entry) || entry.IsNull)
            throw plan.Error("pg_rto_plan has no '" + mode + "' plan, which cluster " + cluster + " needs; add it or use a plan it has");
        var fields = entry.AsList("a list [ttl, loop, retry, start, margin, inter, fastinter, downinter, rise, fall]");
        if (fields.Count < 10)
            throw entry.Expected("a list of 10 values [ttl, loop, retry, start, margin, inter, fastinter, downinter, rise, fall]");
        planNode = entry;
        return new RtoPlan(mode, PythonText(fields[5]), PythonText(fields[6]), PythonText(fields[7]), PythonText(fields[8]), PythonText(fields[9]));
    }

    private static HealthConfig ReadHealth(string cluster, Dictionary<string, ConfigNode> vars, string rto, TimeSpan checkTimeout,
        AnsibleInventory inventory, ConfigNode clusterNode)
    {
        var source = HealthSource.Patroni;
        var sourceNode = Get(vars, "pggate_health_source");
        if (sourceNode is { } sn)
        {
            source = Str(sn, "patroni, sql or dcs") switch
            {
                "patroni" => HealthSource.Patroni,
                "sql" => HealthSource.Sql,
                "dcs" => HealthSource.Dcs,
                _ => throw sn.Expected("a health source: patroni, sql or dcs"),
            };
        }

        var ssl = Get(vars, "patroni_ssl_enabled") is { } sslNode && AnsibleBool(sslNode);
        var etcdPort = Get(vars, "etcd_port") is { } portNode ? Int(portNode, 1, 65535, "a port number 1-65535") : PigstyDefaults.EtcdPort;
        var endpoints = new List<string>();
        if (inventory.FindGroup("etcd") is { } etcd)
        {
            var names = inventory.HostsOf(etcd).Select(h => h.Name).ToList();
            names.Sort(StringComparer.Ordinal);
            foreach (var host in names)
                endpoints.Add("https://" + host + ":" + etcdPort.ToString(CultureInfo.InvariantCulture));
        }
        if (source == HealthSource.Dcs && endpoints.Count == 0)
            throw sourceNode!.Value.Error("pggate_health_source dcs needs etcd, but the inventory has no 'etcd' group with hosts");

        var ns = Get(vars, "pg_namespace") is { } nsNode ? Str(nsNode, "a key prefix such as /pg") : PigstyDefaults.Namespace;
        var etcdPassword = Get(vars, "pg_etcd_password") is { } epNode ? Str(epNode, "a password") : "";

        return new HealthConfig
        {
            Source = source,
            Rto = rto,
            CheckTimeout = checkTimeout,
            Sql = new SqlCheckConfig
            {
                User = Get(vars, "pg_monitor_username") is { } mu ? Str(mu, "a user name") : PigstyDefaults.MonitorUsername,
                Password = new SecretSource { Value = Get(vars, "pg_monitor_password") is { } mp ? Str(mp, "a password") : PigstyDefaults.MonitorPassword },
                Database = "postgres",
            },
            Patroni = new PatroniCheckConfig
            {
                Ssl = ssl,
                CaFile = ssl ? PigstyDefaults.PatroniCaFile : null,
                Username = Get(vars, "patroni_username") is { } pu ? Str(pu, "a user name") : PigstyDefaults.PatroniUsername,
                Password = new SecretSource { Value = Get(vars, "patroni_password") is { } pw ? Str(pw, "a password") : PigstyDefaults.PatroniPassword },
            },
            Dcs = new DcsConfig
            {
                Endpoints = endpoints,
                Namespace = ns.EndsWith('/') ? ns : ns + "/",
                Username = cluster,
                Password = new SecretSource { Value = etcdPassword.Length > 0 ? etcdPassword : cluster },
                CaFile = PigstyDefaults.PatroniCaFile,
                CertFile = PigstyDefaults.EtcdCertFile,
                KeyFile = PigstyDefaults.EtcdKeyFile,
            },
        };
    }

    /// <summary>
    /// The value of <paramref name="name"/> shared by every host of <paramref name="hosts"/>, or null when none sets it.
    /// Pigsty renders per node, so differing values would give each node different services; PgGate refuses that.
    /// </summary>
    private static ConfigNode? Consistent(List<HostEntry> hosts, string name, string scope)
    {
        ConfigNode? first = null;
        HostEntry? firstHost = null;
        foreach (var entry in hosts)
        {
            entry.Vars.TryGetValue(name, out var node);
            ConfigNode? value = node.Node is null || node.IsNull ? null : node;
            if (firstHost is null)
            {
                first = value;
                firstHost = entry;
                continue;
            }
            if (Same(first, value))
                continue;
            var where = value ?? first!.Value;
            throw where.Error(name + " differs between " + firstHost.Host.Name + " (" + Show(first) + ") and " + entry.Host.Name + " (" + Show(value) +
                "); PgGate needs one value for " + scope + ", so set it in the cluster's vars");
        }
        return first;

        static string Show(ConfigNode? n) => n is { } v ? (v.IsScalar ? v.Describe() + " at " + v.Location : "set at " + v.Location) : "not set";
    }

    private static bool Same(ConfigNode? a, ConfigNode? b)
    {
        if (a is null || b is null)
            return a is null && b is null;
        return ReferenceEquals(a.Value.Node, b.Value.Node) || PlainEquals(a.Value.ToPlain(), b.Value.ToPlain());
    }

    private static bool PlainEquals(object? a, object? b)
    {
        switch (a)
        {
            case List<object?> la when b is List<object?> lb:
                if (la.Count != lb.Count)
                    return false;
                for (var i = 0; i < la.Count; i++)
                {
                    if (!PlainEquals(la[i], lb[i]))
                        return false;
                }
                return true;
            case Dictionary<string, object?> da when b is Dictionary<string, object?> db:
                if (da.Count != db.Count)
                    return false;
                foreach (var (k, v) in da)
                {
                    if (!db.TryGetValue(k, out var w) || !PlainEquals(v, w))
                        return false;
                }
                return true;
            default:
                return Equals(a, b);
        }
    }

    /// <summary>The variable's node when set to something other than null; Jinja templates are refused because PgGate does not evaluate them.</summary>
    private static ConfigNode? Get(Dictionary<string, ConfigNode> vars, string name)
    {
        if (!vars.TryGetValue(name, out var node) || node.IsNull)
            return null;
        NoJinja(node);
        return node;
    }

    private static void NoJinja(ConfigNode node)
    {
        if (node.IsScalar && (node.Text.Contains("{{", StringComparison.Ordinal) || node.Text.Contains("{%", StringComparison.Ordinal)))
            throw node.Error("the value " + node.Describe() + " is a Jinja template, which PgGate does not evaluate; write the value itself");
    }

    private static string Str(ConfigNode node, string expected)
    {
        if (!node.IsScalar)
            throw node.Expected(expected);
        return node.Text;
    }

    /// <summary>An integer as Jinja would print it: a YAML integer or a string of digits.</summary>
    private static int Int(ConfigNode node, int min, int max, string expected)
    {
        long? value = node.IsScalar
            ? node.ScalarValue() switch
            {
                long l => l,
                string s when Digits().IsMatch(s) && long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var p) => p,
                _ => null,
            }
            : null;
        if (value is null || value < min || value > max)
            throw node.Expected(expected);
        return (int)value.Value;
    }

    /// <summary>Ansible's <c>bool</c> filter: true for true, 1, and the strings yes, on, 1, true (any case).</summary>
    private static bool AnsibleBool(ConfigNode node) => node.IsScalar && node.ScalarValue() switch
    {
        bool b => b,
        long l => l == 1,
        double d => d == 1.0,
        string s => s.Trim().ToLowerInvariant() is "yes" or "on" or "1" or "true",
        _ => false,
    };

    private static bool JmesPathTruthy(object? value) => value switch
    {
        null => false,
        bool b => b,
        string s => s.Length > 0,
        List<object?> l => l.Count > 0,
        Dictionary<string, object?> d => d.Count > 0,
        _ => true,
    };

    /// <summary>How Python's <c>str()</c> prints a YAML scalar (Jinja's <c>~</c> operator), as Pigsty's option line shows it.</summary>
    private static string PythonText(ConfigNode node)
    {
        if (!node.IsScalar)
            throw node.Expected("a timer value such as 2s or a count such as 3");
        return node.ScalarValue() switch
        {
            long l => l.ToString(CultureInfo.InvariantCulture),
            double d when double.IsFinite(d) && d == Math.Floor(d) && Math.Abs(d) < 1e16 => d.ToString("F1", CultureInfo.InvariantCulture),
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            bool b => b ? "True" : "False",
            _ => node.Text,
        };
    }

    [GeneratedRegex("^[A-Za-z0-9-]+$")]
    private static partial Regex ClusterName();

    [GeneratedRegex("^[0-9]+$")]
    private static partial Regex Digits();
}
