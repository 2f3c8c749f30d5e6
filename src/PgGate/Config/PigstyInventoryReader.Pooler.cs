using PgGate.Config.Yaml;
using PgGate.Pooling;

namespace PgGate.Config;

/// <summary>
/// The pooler as Pigsty configures PgBouncer on every member (<c>roles/pgsql/templates/pgbouncer.ini</c>,
/// <c>pgbouncer.database</c>, <c>pgbouncer.useropts</c>): PgGate takes PgBouncer's place on the node when
/// <c>pgbouncer_enabled</c> (the default), so services whose destination is <c>pgbouncer</c> are pooled by PgGate in one
/// hop (<c>dest: pool</c>) rather than relayed to a PgBouncer on the member.
/// </summary>
internal static partial class PigstyInventoryReader
{
    private static readonly string[] PoolerClusterVars =
    [
        "pgbouncer_enabled", "pgbouncer_poolmode", "pgbouncer_auth_query", "pgbouncer_sslmode", "pgbouncer_ignore_param",
        "pg_databases", "pg_users", "pg_default_roles", "pg_dbsu", "pg_admin_username",
    ];

    /// <summary>Pigsty's <c>monitor.pgbouncer_auth</c> lookup (<c>pg-init-template.sql</c>).</summary>
    public const string PigstyAuthQuery = "SELECT username, password FROM monitor.pgbouncer_auth($1)";

    /// <summary>The useropts Pigsty's default <c>pg_default_roles</c> give: the DBA and monitor users pool by session.</summary>
    private static readonly PoolerUser[] DefaultRoleUsers =
    [
        new() { Name = "dbuser_dba", PoolMode = PoolMode.Session, MaxUserConnections = 16 },
        new() { Name = "dbuser_monitor", PoolMode = PoolMode.Session, MaxUserConnections = 8 },
    ];

    /// <summary>The cluster's pooler settings, or null when <c>pgbouncer_enabled</c> is false.</summary>
    private static PoolerConfig? ReadPooler(string cluster, List<HostEntry> hosts, ConfigNode clusterNode)
    {
        foreach (var varName in PoolerClusterVars)
            Consistent(hosts, varName, "every member of " + cluster);
        var vars = hosts[0].Vars;
        if (Get(vars, "pgbouncer_enabled") is { } enabled && !AnsibleBool(enabled))
            return null;

        var dbsu = Get(vars, "pg_dbsu") is { } su ? Str(su, "a user name") : "postgres";
        var admin = Get(vars, "pg_admin_username") is { } au ? Str(au, "a user name") : "dbuser_dba";
        var monitor = Get(vars, "pg_monitor_username") is { } mu ? Str(mu, "a user name") : PigstyDefaults.MonitorUsername;
        var settings = new PoolerSettings
        {
            ListenPort = Get(vars, "pgbouncer_port") is { } port ? Int(port, 1, 65535, "a port number 1-65535") : PigstyDefaults.PgbouncerPort,
            AdminUsers = [dbsu, admin],
            StatsUsers = [dbsu, monitor],
        };

        if (Get(vars, "pgbouncer_poolmode") is { } mode)
            settings = settings with { PoolMode = PoolerConfigReader.TryParsePoolMode(Str(mode, PoolerConfigReader.PoolModes)) ?? throw mode.Expected(PoolerConfigReader.PoolModes) };
        if (Get(vars, "pgbouncer_sslmode") is { } ssl)
            settings = settings with { ClientTlsSslMode = PoolerConfigReader.TryParseTlsMode(Str(ssl, PoolerConfigReader.TlsModes)) ?? throw ssl.Expected(PoolerConfigReader.TlsModes) };
        if (Get(vars, "pgbouncer_auth_query") is { } authQuery && AnsibleBool(authQuery))
            settings = settings with { AuthUser = dbsu, AuthQuery = PigstyAuthQuery };
        if (Get(vars, "pgbouncer_ignore_param") is { } ignore)
        {
            var names = new List<string>();
            foreach (var item in ignore.AsList("a list of startup parameter names"))
                names.Add(Str(item, "a parameter name"));
            settings = settings with { IgnoreStartupParameters = names };
        }

        settings = settings with
        {
            Databases = ReadPoolDatabases(Get(vars, "pg_databases")),
            Users = ReadPoolUsers(Get(vars, "pg_default_roles"), Get(vars, "pg_users")),
        };
        return new PoolerConfig { Settings = settings, Location = clusterNode.Location };
    }

    /// <summary><c>database.txt</c>: one entry per <c>pg_databases</c> item without <c>pgbouncer: false</c> or
    /// <c>state: absent</c>. Pigsty points them at <c>host=/var/run/postgresql</c>; PgGate leaves the host empty, which
    /// means the node's own member (its address and pg_port). With no database listed, every database is served.</summary>
    private static IReadOnlyList<PoolerDatabase> ReadPoolDatabases(ConfigNode? node)
    {
        var list = new List<PoolerDatabase>();
        if (node is { } databases)
        {
            foreach (var item in databases.AsList("a list of database definitions such as - { name: meta }"))
            {
                var map = item.AsMap("a database definition such as { name: meta, pool_mode: transaction }");
                var name = Str(map.Required("name", "the database name"), "a database name");
                if (map.Get("pgbouncer") is { } pgb && !AnsibleBool(pgb))
                    continue;
                if (map.Get("state") is { } state && state.Text == "absent")
                    continue;
                var entry = new PoolerDatabase { Name = name };
                if (map.Get("pool_auth_user") is { } authUser)
                    entry = entry with { AuthUser = Str(authUser, "a user name") };
                if (map.Get("pool_mode") is { } mode)
                    entry = entry with { PoolMode = PoolerConfigReader.TryParsePoolMode(Str(mode, PoolerConfigReader.PoolModes)) ?? throw mode.Expected(PoolerConfigReader.PoolModes) };
                if (map.Get("pool_size") is { } size)
                    entry = entry with { PoolSize = Int(size, 0, int.MaxValue, "a pool size >= 0") };
                if (map.Get("pool_size_min") is { } min)
                    entry = entry with { MinPoolSize = Int(min, 0, int.MaxValue, "a number >= 0") };
                if (map.Get("pool_reserve") is { } reserve)
                    entry = entry with { ReservePool = Int(reserve, 0, int.MaxValue, "a number >= 0") };
                if (map.Get("pool_connlimit") is { } limit)
                    entry = entry with { MaxDbConnections = Int(limit, 0, int.MaxValue, "a number >= 0") };
                list.Add(entry);
            }
        }

        if (list.Count == 0)
            list.Add(new PoolerDatabase { Name = PoolerDatabase.FallbackName });
        return list;
    }

    /// <summary><c>useropts.txt</c>: <c>pool_mode</c> and <c>pool_connlimit</c> (as max_user_connections) of every role of
    /// <c>pg_default_roles</c> (Pigsty's defaults when not set) and <c>pg_users</c> that has them.</summary>
    private static IReadOnlyList<PoolerUser> ReadPoolUsers(ConfigNode? defaultRoles, ConfigNode? users)
    {
        var list = new List<PoolerUser>();
        if (defaultRoles is { } roles)
            AddUsers(list, roles);
        else
            list.AddRange(DefaultRoleUsers);
        if (users is { } more)
            AddUsers(list, more);
        return list;
    }

    private static void AddUsers(List<PoolerUser> list, ConfigNode node)
    {
        foreach (var item in node.AsList("a list of user definitions such as - { name: dbuser_meta, pgbouncer: true }"))
        {
            var map = item.AsMap("a user definition such as { name: dbuser_meta, pool_mode: transaction }");
            var name = Str(map.Required("name", "the user name"), "a user name");
            var mode = map.Get("pool_mode");
            var limit = map.Get("pool_connlimit");
            if (mode is null && limit is null)
                continue;
            var user = new PoolerUser { Name = name };
            if (mode is { } m)
                user = user with { PoolMode = PoolerConfigReader.TryParsePoolMode(Str(m, PoolerConfigReader.PoolModes)) ?? throw m.Expected(PoolerConfigReader.PoolModes) };
            if (limit is { } l)
                user = user with { MaxUserConnections = Int(l, 0, int.MaxValue, "a number >= 0") };
            list.RemoveAll(u => u.Name == name);
            list.Add(user);
        }
    }

    /// <summary>With PgGate in PgBouncer's place, a <c>pgbouncer</c> destination is PgGate's pooler, one hop.</summary>
    private static ServiceDestination PoolInsteadOfPgbouncer(ServiceDestination dest, PoolerConfig? pooler) =>
        pooler is not null && dest.Kind == DestinationKind.Pgbouncer ? ServiceDestination.Pool : dest;
}
