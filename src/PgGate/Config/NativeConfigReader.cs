using System.Net;
using System.Text.RegularExpressions;
using PgGate.Config.Yaml;

namespace PgGate.Config;

/// <summary>Binds a native <c>pggate.yml</c> to a <see cref="GateConfig"/>. Every key is known; a typo is an error.</summary>
internal static partial class NativeConfigReader
{
    private static readonly string[] RootKeys = ["clusters", "pooler", "admin"];
    private static readonly string[] ClusterKeys = ["members", "vip", "default_service_dest", "health", "services"];
    private static readonly string[] MemberKeys =
        ["name", "host", "role", "seq", "offline_query", "weight", "pg_port", "pooler_port", "patroni_port", "labels"];
    private static readonly string[] HealthKeys = ["source", "rto", "options", "check_timeout", "sql", "patroni", "dcs"];
    private static readonly string[] SqlKeys = ["user", "database", .. SecretReader.Keys];
    private static readonly string[] PatroniKeys = ["ssl", "ca_file", "username", .. SecretReader.Keys];
    private static readonly string[] DcsKeys = ["endpoints", "namespace", "username", "ca_file", "cert_file", "key_file", .. SecretReader.Keys];
    private static readonly string[] AdminKeys = ["listen", "username", .. SecretReader.Keys];

    public static GateConfig Read(string yaml, string file)
    {
        var rootNode = YamlLoader.Load(yaml, file)
            ?? throw new ConfigException(new SourceLocation(file, 0, 0), "", "the file is empty; expected a mapping with 'clusters:'");
        var root = new ConfigNode(rootNode, "", file, ScalarSchema.Core).AsMap("a mapping with 'clusters:' (and optionally 'admin:')", RootKeys);
        var warnings = new List<string>();

        var clustersNode = root.Required("clusters", "a mapping of cluster name to cluster, e.g. clusters: { pg-test: { members: [...] } }");
        var clustersMap = clustersNode.AsMap("a mapping of cluster name to cluster, e.g. clusters: { pg-test: { members: [...] } }");
        if (clustersMap.Count == 0)
            throw clustersNode.Error("no clusters are defined; add at least one under 'clusters:'");

        // The pooler first: its port is the default of every member's pooler_port.
        var pooler = root.Get("pooler") is { } poolerNode ? PoolerConfigReader.Read(poolerNode) : null;

        var drafts = new List<ClusterDraft>(clustersMap.Count);
        foreach (var (name, node) in clustersMap.Entries)
            drafts.Add(ReadCluster(name, clustersMap.KeyNode(name), node, pooler, warnings));

        var admin = new AdminConfig();
        ConfigNode? listenNode = null;
        if (root.Get("admin") is { } adminNode)
        {
            var adminMap = adminNode.AsMap("a mapping such as { listen: \"*:9101\", username: pggate, password_env: PGGATE_ADMIN_PASSWORD }", AdminKeys);
            if (adminMap.Get("listen") is { } listen)
            {
                admin = admin with { Listen = ReadListen(listen) };
                listenNode = listen;
            }

            var username = adminMap.Get("username");
            var password = SecretReader.Read(adminMap);
            if (username is null && password.IsSet)
                throw adminNode.Error("a password for the admin API is set but no username; add username (HTTP Basic needs both)");
            if (username is { } user)
            {
                if (!password.IsSet)
                    throw user.Error("username is set but no password; add password, password_env or password_file");
                admin = admin with { Username = user.AsString("a user name"), Password = password };
            }
        }

        ConfigValidator.Validate(drafts, admin, listenNode);
        var clusters = new List<ClusterConfig>(drafts.Count);
        foreach (var d in drafts)
            clusters.Add(d.Config);
        return new GateConfig
        {
            Clusters = clusters,
            Admin = admin,
            SourceFile = file,
            Format = ConfigFormat.Native,
            Warnings = warnings,
        };
    }

    private static ClusterDraft ReadCluster(string name, ConfigNode keyNode, ConfigNode node, PoolerConfig? pooler, List<string> warnings)
    {
        if (!ClusterName().IsMatch(name) || name == "root")
            throw keyNode.Error("invalid cluster name '" + name + "'; use letters, digits and '-' (Pigsty's rule), and not 'root'");
        var map = node.AsMap("a cluster mapping with 'members:'", ClusterKeys);

        var membersNode = map.Required("members", "a list of members, e.g. - { name: pg-test-1, host: 10.10.10.11, role: primary }");
        var memberNodes = membersNode.AsList("a list of members, e.g. - { name: pg-test-1, host: 10.10.10.11, role: primary }");
        if (memberNodes.Count == 0)
            throw membersNode.Error("the cluster has no members; list at least the primary");
        var members = new List<MemberConfig>(memberNodes.Count);
        var memberDrafts = new List<MemberDraft>(memberNodes.Count);
        var roles = new List<(MemberConfig, ConfigNode)>(memberNodes.Count);
        foreach (var m in memberNodes)
        {
            var member = ReadMember(name, m, pooler?.Settings.ListenPort ?? PigstyDefaults.PgbouncerPort, out var draft, out var roleNode);
            members.Add(member);
            memberDrafts.Add(draft);
            roles.Add((member, roleNode));
        }
        ConfigValidator.CheckMembers(name, memberDrafts);
        ClusterRules.CheckOnePrimary(name, roles, keyNode);

        string? vip = null;
        if (map.Get("vip") is { } vipNode)
        {
            var text = vipNode.AsString("an IP address such as 10.10.10.3");
            var address = text.Split('/')[0];
            if (!IPAddress.TryParse(address, out _))
                throw vipNode.Expected("an IP address such as 10.10.10.3 (a /mask suffix is allowed)");
            vip = address;
        }

        var defaultDest = map.Get("default_service_dest") is { } dd
            ? ServiceReader.ReadDest(dd, defaultDest: null, pigsty: false, warnings)
            : ServiceDestination.Postgres;

        var health = map.Get("health") is { } healthNode ? ReadHealth(healthNode, out var optionsText, out var options) : DefaultHealth(out optionsText, out options);

        var defaults = new ServiceDefaults(defaultDest, optionsText, options, health.CheckTimeout);
        var services = ReadServices(map, keyNode.Location, defaults, warnings);
        SelectorCheck.Check(services, members);
        if (pooler is null)
            RequirePooler(services);

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
            Location = keyNode.Location,
        };
        return new ClusterDraft(config, keyNode, memberDrafts, services);
    }

    /// <summary>A pooled service hands its clients to the node's pooler, whose authentication must be configured.</summary>
    private static void RequirePooler(List<ParsedService> services)
    {
        foreach (var s in services)
        {
            if (s.Config.Dest.Kind == DestinationKind.Pool)
            {
                throw s.NameNode.Error("service " + s.Config.Name + " has dest pool (PgGate's pooler), but the file has no 'pooler:' section; " +
                    "add one, e.g. pooler: { auth_type: scram-sha-256, auth_file: /etc/pgbouncer/userlist.txt }, or use dest: postgres");
            }
        }
    }

    private static MemberConfig ReadMember(string cluster, ConfigNode node, int defaultPoolerPort, out MemberDraft draft, out ConfigNode roleNode)
    {
        var map = node.AsMap("a member mapping such as { name: pg-test-1, host: 10.10.10.11, role: primary }", MemberKeys);

        var nameNode = map.Required("name", "the instance name, e.g. pg-test-1 (Patroni's member name)");
        var name = nameNode.AsString("an instance name such as pg-test-1");
        if (!MemberName().IsMatch(name))
            throw nameNode.Expected("an instance name of letters, digits, '-', '_' or '.', e.g. pg-test-1");

        var hostNode = map.Required("host", "the member's address, e.g. 10.10.10.11");
        var host = hostNode.AsString("an IP address or host name such as 10.10.10.11");
        if (!IPAddress.TryParse(host, out _) && !HostName().IsMatch(host))
            throw hostNode.Expected("an IP address or host name such as 10.10.10.11");

        roleNode = map.Required("role", "the configured role: " + string.Join(", ", PigstyDefaults.Roles));
        var role = roleNode.AsString("one of " + string.Join(", ", PigstyDefaults.Roles));
        if (!PigstyDefaults.Roles.Contains(role))
            throw roleNode.Expected("one of " + string.Join(", ", PigstyDefaults.Roles));

        int? seq = map.Get("seq") is { } seqNode ? seqNode.AsInt(0, int.MaxValue, "an instance number (an integer >= 0)") : null;
        var offline = map.Get("offline_query") is { } oq && oq.AsBool();
        var weight = map.Get("weight") is { } w ? w.AsInt(0, 256, "a weight 0-256") : PigstyDefaults.Weight;
        var pgPort = map.Get("pg_port") is { } pp ? pp.AsInt(1, 65535, "a port number 1-65535") : PigstyDefaults.PgPort;
        var poolerPort = map.Get("pooler_port") is { } bp ? bp.AsInt(1, 65535, "a port number 1-65535") : defaultPoolerPort;
        var patroniPort = map.Get("patroni_port") is { } ap ? ap.AsInt(1, 65535, "a port number 1-65535") : PigstyDefaults.PatroniPort;

        var member = new MemberConfig
        {
            Name = name,
            Host = host,
            Role = role,
            Seq = seq,
            OfflineQuery = offline,
            Weight = weight,
            PgPort = pgPort,
            PoolerPort = poolerPort,
            PatroniPort = patroniPort,
            Location = map.Location,
        };

        var doc = new Dictionary<string, object?>(StringComparer.Ordinal);
        MemberDocument.AddCanonical(doc, cluster, member);
        doc["pg_cluster"] = cluster;
        doc["pg_instance"] = name;
        doc["pg_role"] = role;
        doc["pg_offline_query"] = offline;
        doc["pg_weight"] = (long)weight;
        if (seq is { } s)
            doc["pg_seq"] = (long)s;
        doc["pg_port"] = (long)pgPort;
        doc["pgbouncer_port"] = (long)poolerPort;
        doc["patroni_port"] = (long)patroniPort;
        doc["inventory_hostname"] = host;

        if (map.Get("labels") is { } labelsNode)
        {
            var labels = labelsNode.AsMap("a mapping of label name to value, e.g. { zone: a }");
            foreach (var (key, value) in labels.Entries)
            {
                if (MemberDocument.ReservedKeys.Contains(key))
                {
                    var keyNode = labels.KeyNode(key);
                    throw keyNode.Error("label '" + key + "' would hide the member's own '" + key +
                        "' in selector documents; rename the label (reserved: " + string.Join(", ", MemberDocument.ReservedKeys) + ")");
                }
                doc[key] = value.ToPlain();
            }
        }

        member = member with { Vars = doc };
        draft = new MemberDraft(member, nameNode, hostNode);
        return member;
    }

    private static HealthConfig DefaultHealth(out string optionsText, out ServerOptions options)
    {
        var health = new HealthConfig();
        optionsText = RtoPlan.PigstyDefaults[RtoPlan.DefaultName].OptionsText;
        options = ServerOptionsSyntax.Parse(optionsText, SourceLocation.None, "health.rto", health.CheckTimeout);
        return health;
    }

    private static HealthConfig ReadHealth(ConfigNode node, out string optionsText, out ServerOptions options)
    {
        var map = node.AsMap("a health mapping such as { source: patroni, rto: norm }", HealthKeys);

        var source = HealthSource.Patroni;
        var sourceNode = map.Get("source");
        if (sourceNode is { } sn)
        {
            source = sn.AsString("patroni, sql or dcs") switch
            {
                "patroni" => HealthSource.Patroni,
                "sql" => HealthSource.Sql,
                "dcs" => HealthSource.Dcs,
                _ => throw sn.Expected("a health source: patroni, sql or dcs"),
            };
        }

        var rto = RtoPlan.DefaultName;
        if (map.Get("rto") is { } rtoNode)
        {
            rto = rtoNode.AsString("an RTO plan: fast, norm, safe or wide");
            if (!RtoPlan.PigstyDefaults.ContainsKey(rto))
                throw rtoNode.Expected("an RTO plan: fast, norm, safe or wide");
        }

        var checkTimeout = TimeSpan.FromSeconds(3);
        if (map.Get("check_timeout") is { } ctNode)
        {
            checkTimeout = ctNode.AsDuration();
            if (checkTimeout <= TimeSpan.Zero)
                throw ctNode.Expected("a duration greater than 0, e.g. 3s");
        }

        if (map.Get("options") is { } optionsNode)
        {
            optionsText = optionsNode.AsString("a default-server options string such as \"inter 2s fastinter 1s downinter 2s rise 3 fall 3\"");
            options = ServerOptionsSyntax.Parse(optionsText, optionsNode.Location, optionsNode.Path, checkTimeout);
        }
        else
        {
            optionsText = RtoPlan.PigstyDefaults[rto].OptionsText;
            options = ServerOptionsSyntax.Parse(optionsText, map.Location, ConfigPath.Child(map.Self.Path, "rto"), checkTimeout);
        }

        var sql = new SqlCheckConfig();
        if (map.Get("sql") is { } sqlNode)
        {
            var sqlMap = sqlNode.AsMap("a mapping such as { user: dbuser_monitor, password_file: /etc/pggate/monitor.pass }", SqlKeys);
            sql = new SqlCheckConfig
            {
                User = sqlMap.Get("user") is { } u ? u.AsString("a user name") : sql.User,
                Database = sqlMap.Get("database") is { } d ? d.AsString("a database name") : sql.Database,
                Password = SecretReader.Read(sqlMap),
            };
        }

        var patroni = new PatroniCheckConfig();
        if (map.Get("patroni") is { } patroniNode)
        {
            var pm = patroniNode.AsMap("a mapping such as { ssl: false, username: postgres, password_env: PATRONI_PASSWORD }", PatroniKeys);
            patroni = new PatroniCheckConfig
            {
                Ssl = pm.Get("ssl") is { } ssl && ssl.AsBool(),
                CaFile = pm.Get("ca_file")?.AsString("the path of a CA certificate file"),
                Username = pm.Get("username")?.AsString("a user name"),
                Password = SecretReader.Read(pm),
            };
        }

        var dcs = new DcsConfig();
        if (map.Get("dcs") is { } dcsNode)
        {
            var dm = dcsNode.AsMap("a mapping such as { endpoints: [ \"http://10.10.10.10:2379\" ], namespace: /pg/ }", DcsKeys);
            var endpoints = new List<string>();
            if (dm.Get("endpoints") is { } epNode)
            {
                foreach (var ep in epNode.AsList("a list of etcd URLs such as [ \"http://10.10.10.10:2379\" ]"))
                {
                    var url = ep.AsString("an etcd URL such as http://10.10.10.10:2379");
                    if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
                        throw ep.Expected("an etcd URL such as http://10.10.10.10:2379 or https://10.10.10.10:2379");
                    endpoints.Add(url);
                }
            }
            var ns = "/pg/";
            if (dm.Get("namespace") is { } nsNode)
            {
                ns = nsNode.AsString("a key prefix such as /pg/");
                if (!ns.StartsWith('/'))
                    throw nsNode.Expected("a key prefix starting with '/', such as /pg/");
            }
            dcs = new DcsConfig
            {
                Endpoints = endpoints,
                Namespace = ns.EndsWith('/') ? ns : ns + "/",
                Username = dm.Get("username")?.AsString("a user name"),
                Password = SecretReader.Read(dm),
                CaFile = dm.Get("ca_file")?.AsString("the path of a CA certificate file"),
                CertFile = dm.Get("cert_file")?.AsString("the path of a client certificate file"),
                KeyFile = dm.Get("key_file")?.AsString("the path of a client key file"),
            };
        }

        if (source == HealthSource.Dcs && dcs.Endpoints.Count == 0)
        {
            throw sourceNode!.Value.Error("health source dcs needs etcd endpoints; add dcs: { endpoints: [ \"http://10.10.10.10:2379\" ] } " +
                "to this cluster's health");
        }

        return new HealthConfig
        {
            Source = source,
            Rto = rto,
            CheckTimeout = checkTimeout,
            Sql = sql,
            Patroni = patroni,
            Dcs = dcs,
        };
    }

    private static List<ParsedService> ReadServices(ConfigMap cluster, SourceLocation clusterLocation, ServiceDefaults defaults, List<string> warnings)
    {
        const string Expected = "pigsty-defaults, or a list whose items are pigsty-defaults or service mappings";
        var services = new List<ParsedService>();
        if (cluster.Get("services") is not { } node)
        {
            services.AddRange(ServiceReader.ReadPigstyDefaults(defaults, clusterLocation, ConfigPath.Child(cluster.Self.Path, "services"), pigsty: false, warnings));
            return services;
        }
        if (node.IsScalar)
        {
            if (node.Text != PigstyDefaults.DefaultServicesName)
                throw node.Expected(Expected);
            services.AddRange(ServiceReader.ReadPigstyDefaults(defaults, node.Location, node.Path, pigsty: false, warnings));
            return services;
        }
        foreach (var item in node.AsList(Expected))
        {
            if (item.IsScalar)
            {
                if (item.Text != PigstyDefaults.DefaultServicesName)
                    throw item.Expected("pigsty-defaults or a service mapping such as { name: standby, port: 5435 }");
                services.AddRange(ServiceReader.ReadPigstyDefaults(defaults, item.Location, item.Path, pigsty: false, warnings));
                continue;
            }
            services.Add(ServiceReader.Read(item, defaults, pigsty: false, warnings));
        }
        return services;
    }

    private static string ReadListen(ConfigNode node)
    {
        const string Expected = "an address such as \"*:9101\" or \"127.0.0.1:9101\"";
        var text = node.AsString(Expected);
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), out var port) || port is < 1 or > 65535)
            throw node.Expected(Expected);
        var host = text[..colon].Trim('[', ']');
        if (host != "*" && !IPAddress.TryParse(host, out _) && !HostName().IsMatch(host))
            throw node.Expected(Expected);
        return text;
    }

    [GeneratedRegex("^[A-Za-z0-9-]+$")]
    private static partial Regex ClusterName();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    private static partial Regex MemberName();

    [GeneratedRegex(@"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")]
    private static partial Regex HostName();
}
