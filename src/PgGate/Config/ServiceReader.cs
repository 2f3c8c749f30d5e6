using System.Net;
using System.Text.RegularExpressions;
using PgGate.Config.Yaml;
using PgGate.Services.Selection;

namespace PgGate.Config;

/// <summary>What a service inherits from its cluster.</summary>
internal sealed record ServiceDefaults(
    ServiceDestination DefaultDest,
    string DefaultOptionsText,
    ServerOptions DefaultOptions,
    TimeSpan CheckTimeout);

/// <summary>A service as read, with its selectors compiled so the cluster can check them against its members.</summary>
internal sealed record ParsedService(ServiceConfig Config, MemberSelector Selector, MemberSelector? Backup, ConfigNode NameNode, ConfigNode PortNode);

/// <summary>
/// Reads one service item (<c>pg_default_services[]</c> / <c>pg_services[]</c> in Pigsty, <c>services[]</c> in pggate.yml).
/// Both formats share the fields; they differ where Pigsty is lenient: unknown keys and odd <c>dest</c> values are
/// warnings in an inventory (Pigsty ignores or reroutes them) and errors in the native format.
/// </summary>
internal static partial class ServiceReader
{
    public static IReadOnlyList<string> Keys { get; } =
    [
        "name", "port", "ip", "selector", "backup", "dest", "check", "maxconn", "balance", "options",
        "allbackups", "connect_timeout", "queue_timeout", "retries",
    ];

    private const string DestExpected = "default, postgres, pgbouncer, pool or a port number 1-65535";

    public static ParsedService Read(ConfigNode node, ServiceDefaults defaults, bool pigsty, List<string> warnings)
    {
        var map = node.AsMap("a service mapping such as { name: replica, port: 5434, selector: \"[]\" }", pigsty ? null : Keys);
        if (pigsty)
        {
            foreach (var (key, _) in map.Entries)
            {
                if (!Keys.Contains(key))
                    warnings.Add(Where(map.KeyNode(key)) + "unknown service key '" + key + "' is ignored (as Pigsty ignores it)");
            }
        }
        var location = map.Location;

        var nameNode = map.Required("name", "the service name, e.g. replica");
        var name = nameNode.AsString("a service name such as replica");
        if (!ServiceName().IsMatch(name))
            throw nameNode.Expected("a service name of letters, digits, '-', '_' or '.' (it becomes the listener name <cluster>-<name>)");

        var portNode = map.Required("port", "the port the service listens on, e.g. 5434");
        var port = portNode.AsInt(1, 65535, "a port number 1-65535");

        var ip = PigstyDefaults.ServiceIp;
        if (map.Get("ip") is { } ipNode)
        {
            ip = ipNode.AsString("\"*\" or an IP address to bind");
            if (ip != "*" && !IPAddress.TryParse(ip, out _))
                throw ipNode.Expected("\"*\" or an IP address to bind");
        }

        string selectorText;
        ConfigNode? selectorNode = map.Get("selector");
        if (selectorNode is { } sn)
            selectorText = sn.AsString("a JMESPath selector string such as \"[]\"");
        else if (pigsty)
            throw new ConfigException(location, ConfigPath.Child(map.Self.Path, "selector"), "missing; Pigsty requires a selector, e.g. selector: \"[]\"");
        else
            selectorText = "[]";
        var selector = MemberSelector.Compile(selectorText, selectorNode?.Location ?? location,
            selectorNode?.Path ?? ConfigPath.Child(map.Self.Path, "selector"));

        MemberSelector? backup = null;
        if (map.Get("backup") is { } backupNode)
        {
            var text = backupNode.AsString("a JMESPath selector string such as \"[? pg_role == `primary`]\"");
            backup = MemberSelector.Compile(text, backupNode.Location, backupNode.Path);
        }

        var dest = map.Get("dest") is { } destNode ? ReadDest(destNode, defaults.DefaultDest, pigsty, warnings) : defaults.DefaultDest;

        var check = PigstyDefaults.ServiceCheck;
        if (map.Get("check") is { } checkNode)
        {
            check = checkNode.AsString("a Patroni health-check path such as /primary or /read-only");
            if (!check.StartsWith('/') || check.Contains(' ', StringComparison.Ordinal))
                throw checkNode.Expected("a Patroni health-check path starting with '/', e.g. /primary, /read-only, /replica?lag=1MB");
        }

        var maxConn = map.Get("maxconn") is { } mc ? mc.AsInt(0, 10_000_000, "a connection limit (an integer >= 0)") : PigstyDefaults.ServiceMaxConn;

        var balance = BalanceAlgorithm.RoundRobin;
        if (map.Get("balance") is { } balanceNode)
        {
            balance = balanceNode.AsString("roundrobin, leastconn or random") switch
            {
                "roundrobin" => BalanceAlgorithm.RoundRobin,
                "leastconn" => BalanceAlgorithm.LeastConn,
                "random" => BalanceAlgorithm.Random,
                _ => throw balanceNode.Expected("a balance algorithm PgGate supports: roundrobin, leastconn or random"),
            };
        }

        var optionsText = defaults.DefaultOptionsText;
        var options = defaults.DefaultOptions;
        if (map.Get("options") is { } optionsNode)
        {
            optionsText = optionsNode.AsString("a default-server options string such as \"inter 2s fastinter 1s rise 3 fall 3\"");
            options = ServerOptionsSyntax.Parse(optionsText, optionsNode.Location, optionsNode.Path, defaults.CheckTimeout);
        }

        var allBackups = map.Get("allbackups") is { } ab && ab.AsBool();
        var connectTimeout = map.Get("connect_timeout") is { } ct ? Positive(ct) : TimeSpan.FromSeconds(3);
        var queueTimeout = map.Get("queue_timeout") is { } qt ? Positive(qt) : TimeSpan.FromSeconds(3);
        var retries = map.Get("retries") is { } r ? r.AsInt(0, 100, "a retry count 0-100") : 3;

        var config = new ServiceConfig
        {
            Name = name,
            Ip = ip,
            Port = port,
            Selector = selectorText,
            Backup = backup?.Expression,
            Dest = dest,
            Check = check,
            MaxConn = maxConn,
            Balance = balance,
            AllBackups = allBackups,
            Options = options,
            OptionsText = optionsText,
            ConnectTimeout = connectTimeout,
            QueueTimeout = queueTimeout,
            Retries = retries,
            Location = location,
        };
        return new ParsedService(config, selector, backup, nameNode, portNode);
    }

    /// <summary>Pigsty's <c>pg_default_services</c>, pinned to <paramref name="location"/> (where the config pulled them in).</summary>
    public static IReadOnlyList<ParsedService> ReadPigstyDefaults(ServiceDefaults defaults, SourceLocation location, string path, bool pigsty,
        List<string> warnings)
    {
        var root = YamlLoader.Load(PigstyDefaults.DefaultServicesYaml, PigstyDefaults.DefaultServicesName)!;
        var schema = pigsty ? ScalarSchema.Yaml11 : ScalarSchema.Core;
        var items = new ConfigNode(root, path, PigstyDefaults.DefaultServicesName, schema, location).AsList("a list");
        var services = new List<ParsedService>(items.Count);
        foreach (var item in items)
        {
            var name = item.AsMap("a service mapping").Get("name")?.Text;
            var named = item.WithPath(path + "(" + PigstyDefaults.DefaultServicesName + ":" + name + ")");
            services.Add(Read(named, defaults, pigsty, warnings));
        }
        return services;
    }

    private static TimeSpan Positive(ConfigNode node)
    {
        var value = node.AsDuration();
        if (value <= TimeSpan.Zero)
            throw node.Expected("a duration greater than 0, e.g. 3s");
        return value;
    }

    /// <summary>
    /// A service's <c>dest</c>. Native: <c>default</c>, <c>postgres</c>, <c>pgbouncer</c>, <c>pool</c> or a port number.
    /// Pigsty (section 3.1): <c>default</c> is the cluster default, <c>postgres</c> → pg_port, <c>pgbouncer</c> → pgbouncer_port,
    /// a YAML number → that port, any other string → 5432.
    /// </summary>
    public static ServiceDestination ReadDest(ConfigNode node, ServiceDestination? defaultDest, bool pigsty, List<string> warnings)
    {
        var value = node.IsScalar ? node.ScalarValue() : null;
        if (!node.IsScalar)
            throw node.Expected(defaultDest is null ? "postgres, pgbouncer, pool or a port number" : DestExpected);

        if (pigsty)
        {
            switch (value)
            {
                case long port when port is >= 1 and <= 65535:
                    return new ServiceDestination(DestinationKind.Port, (int)port);
                case long or double or bool:
                    throw node.Expected("a port number 1-65535, default, postgres or pgbouncer");
                case "default" when defaultDest is { } d:
                    return d;
                case "postgres":
                    return ServiceDestination.Postgres;
                case "pgbouncer":
                    return ServiceDestination.Pgbouncer;
            }
            var text = node.Text;
            var what = defaultDest is null ? "pg_default_service_dest " : "dest ";
            var why = long.TryParse(text, out _)
                ? "is a quoted number, which Pigsty's template treats as a string; write it unquoted to mean that port"
                : defaultDest is null ? "is not postgres, pgbouncer or a number" : "is not default, postgres, pgbouncer or a number";
            warnings.Add(Where(node) + what + ConfigNode.Quote(text) + " " + why +
                "; Pigsty sends such a service to port 5432, and so does PgGate");
            return new ServiceDestination(DestinationKind.Port, PigstyDefaults.PgPort);
        }

        switch (value)
        {
            case "default" when defaultDest is { } d:
                return d;
            case "postgres":
                return ServiceDestination.Postgres;
            case "pgbouncer":
                return ServiceDestination.Pgbouncer;
            case "pool":
                return ServiceDestination.Pool;
        }
        var port2 = node.AsInt(1, 65535, defaultDest is null ? "postgres, pgbouncer, pool or a port number 1-65535" : DestExpected);
        return new ServiceDestination(DestinationKind.Port, port2);
    }

    private static string Where(ConfigNode node) => node.Location + ": " + node.Path + ": ";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    private static partial Regex ServiceName();
}
