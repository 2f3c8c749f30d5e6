using System.Globalization;
using PgGate.Config.Yaml;
using PgGate.Pooling;

namespace PgGate.Config;

/// <summary>
/// Reads the native <c>pooler:</c> section. Keys are PgBouncer's setting names; a key left out keeps the value Pigsty's
/// <c>pgbouncer.ini</c> gives it (<see cref="PoolerSettings"/>). Durations are PgBouncer's seconds when written as a bare
/// number (<c>query_wait_timeout: 120</c>), or carry a unit (<c>500ms</c>, <c>2s</c>, <c>1m</c>).
/// </summary>
internal static class PoolerConfigReader
{
    public static IReadOnlyList<string> Keys { get; } =
    [
        "port", "listen_addr", "listen", "pool_mode", "max_client_conn", "default_pool_size", "min_pool_size", "reserve_pool_size",
        "reserve_pool_timeout", "max_db_connections", "max_user_connections", "server_lifetime", "server_idle_timeout",
        "server_reset_query", "server_reset_query_always", "server_connect_timeout", "server_login_retry", "query_wait_timeout",
        "client_idle_timeout", "client_login_timeout", "idle_transaction_timeout", "ignore_startup_parameters",
        "max_prepared_statements", "max_packet_size", "auth_type", "auth_file", "auth_hba_file", "auth_user", "auth_query",
        "admin_users", "stats_users", "client_tls_sslmode", "client_tls_cert_file", "client_tls_key_file", "client_tls_ca_file",
        "databases", "users",
    ];

    public static IReadOnlyList<string> DatabaseKeys { get; } =
        ["host", "port", "dbname", "user", "password", "pool_size", "min_pool_size", "reserve_pool", "pool_mode", "max_db_connections", "auth_user"];

    public static IReadOnlyList<string> UserKeys { get; } = ["pool_mode", "max_user_connections"];

    public const string PoolModes = "session, transaction or statement";
    public const string AuthTypes = "hba, scram-sha-256, md5, plain (or password) or trust";
    public const string TlsModes = "disable, allow, prefer, require, verify-ca or verify-full";
    private const string Seconds = "a duration: seconds as a bare number (PgBouncer's unit, e.g. 120) or with a unit (500ms, 2s, 1m)";

    public static PoolerConfig Read(ConfigNode node)
    {
        var map = node.AsMap("a pooler mapping such as { port: 6432, pool_mode: transaction, auth_file: /etc/pgbouncer/userlist.txt }", Keys);
        var s = new PoolerSettings();
        var listen = true;
        foreach (var (key, value) in map.Entries)
        {
            if (value.IsNull)
                continue;
            s = key switch
            {
                "port" => s with { ListenPort = value.AsInt(1, 65535, "a port number 1-65535") },
                "listen_addr" => s with { ListenAddr = ReadListenAddr(value) },
                "pool_mode" => s with { PoolMode = ParsePoolMode(value) },
                "max_client_conn" => s with { MaxClientConn = value.AsInt(1, int.MaxValue, "a number of clients >= 1") },
                "default_pool_size" => s with { DefaultPoolSize = value.AsInt(1, int.MaxValue, "a pool size >= 1") },
                "min_pool_size" => s with { MinPoolSize = value.AsInt(0, int.MaxValue, "a number >= 0") },
                "reserve_pool_size" => s with { ReservePoolSize = value.AsInt(0, int.MaxValue, "a number >= 0") },
                "reserve_pool_timeout" => s with { ReservePoolTimeout = ReadSeconds(value) },
                "max_db_connections" => s with { MaxDbConnections = value.AsInt(0, int.MaxValue, "a number >= 0 (0 = unlimited)") },
                "max_user_connections" => s with { MaxUserConnections = value.AsInt(0, int.MaxValue, "a number >= 0 (0 = unlimited)") },
                "server_lifetime" => s with { ServerLifetime = ReadSeconds(value) },
                "server_idle_timeout" => s with { ServerIdleTimeout = ReadSeconds(value) },
                "server_reset_query" => s with { ServerResetQuery = value.AsString("an SQL statement such as DISCARD ALL (\"\" for none)") },
                "server_reset_query_always" => s with { ServerResetQueryAlways = ReadBool(value) },
                "server_connect_timeout" => s with { ServerConnectTimeout = ReadSeconds(value) },
                "server_login_retry" => s with { ServerLoginRetry = ReadSeconds(value) },
                "query_wait_timeout" => s with { QueryWaitTimeout = ReadSeconds(value) },
                "client_idle_timeout" => s with { ClientIdleTimeout = ReadSeconds(value) },
                "client_login_timeout" => s with { ClientLoginTimeout = ReadSeconds(value) },
                "idle_transaction_timeout" => s with { IdleTransactionTimeout = ReadSeconds(value) },
                "ignore_startup_parameters" => s with { IgnoreStartupParameters = ReadNames(value) },
                "max_prepared_statements" => s with { MaxPreparedStatements = value.AsInt(0, int.MaxValue, "a number >= 0 (0 = off)") },
                "max_packet_size" => s with { MaxPacketSize = value.AsInt(1024, int.MaxValue, "a size in bytes >= 1024") },
                "auth_type" => s with { AuthType = ParseAuthType(value) },
                "auth_file" => s with { AuthFile = ReadPath(value) },
                "auth_hba_file" => s with { AuthHbaFile = ReadPath(value) },
                "auth_user" => s with { AuthUser = value.AsString("a user name") },
                "auth_query" => s with { AuthQuery = value.AsString("an SQL query returning (user name, secret) for $1") },
                "admin_users" => s with { AdminUsers = ReadNames(value) },
                "stats_users" => s with { StatsUsers = ReadNames(value) },
                "client_tls_sslmode" => s with { ClientTlsSslMode = ParseTlsMode(value) },
                "client_tls_cert_file" => s with { ClientTlsCertFile = ReadPath(value) },
                "client_tls_key_file" => s with { ClientTlsKeyFile = ReadPath(value) },
                "client_tls_ca_file" => s with { ClientTlsCaFile = ReadPath(value) },
                "databases" => s with { Databases = ReadDatabases(value) },
                "users" => s with { Users = ReadUsers(value) },
                "listen" => s,
                _ => s,
            };
            if (key == "listen")
                listen = ReadBool(value);
        }

        if (!map.Contains("databases"))
            s = s with { Databases = [new PoolerDatabase { Name = PoolerDatabase.FallbackName }] };
        return new PoolerConfig { Settings = s, Listen = listen, Location = map.Location };
    }

    private static bool ReadBool(ConfigNode value) => value.AsBool();

    private static string ReadListenAddr(ConfigNode value)
    {
        var text = value.AsString("\"*\" or an IP address (comma-separated for several)");
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part != "*" && !System.Net.IPAddress.TryParse(part, out _))
                throw value.Expected("\"*\" or IP addresses separated by commas, such as 10.10.10.11,127.0.0.1");
        }
        return text;
    }

    private static string ReadPath(ConfigNode value)
    {
        var path = value.AsString("a file path");
        if (path.Length == 0)
            throw value.Expected("a file path");
        return path;
    }

    /// <summary>Seconds as a bare number (PgBouncer), or a duration with a unit; 0 turns a timeout off.</summary>
    public static TimeSpan ReadSeconds(ConfigNode value)
    {
        switch (value.ScalarValue())
        {
            case long l when l >= 0:
                return TimeSpan.FromSeconds(l);
            case double d when d >= 0 && double.IsFinite(d):
                return TimeSpan.FromSeconds(d);
            case string text when double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0:
                return TimeSpan.FromSeconds(n);
            case string:
                return value.AsDuration(Seconds);
            default:
                throw value.Expected(Seconds);
        }
    }

    /// <summary>A YAML list of names, or PgBouncer's comma-separated string.</summary>
    public static IReadOnlyList<string> ReadNames(ConfigNode value)
    {
        const string Expected = "a list of names, or names separated by commas";
        var names = new List<string>();
        if (value.IsList)
        {
            foreach (var item in value.AsList(Expected))
                names.Add(item.AsString("a name"));
            return names;
        }
        foreach (var part in value.AsString(Expected).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            names.Add(part);
        return names;
    }

    public static PoolMode ParsePoolMode(ConfigNode value) => TryParsePoolMode(value.AsString(PoolModes)) ?? throw value.Expected(PoolModes);

    public static PoolMode? TryParsePoolMode(string text) => text.Trim().ToLowerInvariant() switch
    {
        "session" => PoolMode.Session,
        "transaction" => PoolMode.Transaction,
        "statement" => PoolMode.Statement,
        _ => null,
    };

    public static PoolerAuthType ParseAuthType(ConfigNode value) => value.AsString(AuthTypes).Trim().ToLowerInvariant() switch
    {
        "hba" => PoolerAuthType.Hba,
        "scram-sha-256" => PoolerAuthType.ScramSha256,
        "md5" => PoolerAuthType.Md5,
        "plain" or "password" => PoolerAuthType.Password,
        "trust" => PoolerAuthType.Trust,
        _ => throw value.Expected(AuthTypes),
    };

    public static ClientTlsMode ParseTlsMode(ConfigNode value) => TryParseTlsMode(value.AsString(TlsModes)) ?? throw value.Expected(TlsModes);

    public static ClientTlsMode? TryParseTlsMode(string text) => text.Trim().ToLowerInvariant() switch
    {
        "disable" => ClientTlsMode.Disable,
        "allow" => ClientTlsMode.Allow,
        "prefer" => ClientTlsMode.Prefer,
        "require" => ClientTlsMode.Require,
        "verify-ca" => ClientTlsMode.VerifyCa,
        "verify-full" => ClientTlsMode.VerifyFull,
        _ => null,
    };

    public static string Name(PoolMode mode) => mode.ToString().ToLowerInvariant();

    public static string Name(PoolerAuthType type) => type switch
    {
        PoolerAuthType.ScramSha256 => "scram-sha-256",
        PoolerAuthType.Password => "plain",
        _ => type.ToString().ToLowerInvariant(),
    };

    public static string Name(ClientTlsMode mode) => mode switch
    {
        ClientTlsMode.VerifyCa => "verify-ca",
        ClientTlsMode.VerifyFull => "verify-full",
        _ => mode.ToString().ToLowerInvariant(),
    };

    private static IReadOnlyList<PoolerDatabase> ReadDatabases(ConfigNode node)
    {
        var map = node.AsMap("a mapping of database name to its settings, e.g. { meta: { pool_size: 20 }, \"*\": {} }");
        var list = new List<PoolerDatabase>(map.Count);
        foreach (var (name, value) in map.Entries)
        {
            var entry = new PoolerDatabase { Name = name };
            if (value.IsNull)
            {
                list.Add(entry);
                continue;
            }
            var m = value.AsMap("a mapping such as { dbname: meta, pool_size: 20, pool_mode: session }", DatabaseKeys);
            foreach (var (key, v) in m.Entries)
            {
                if (v.IsNull)
                    continue;
                entry = key switch
                {
                    "host" => entry with { Host = v.AsString("an address, a host name or a Unix socket directory such as /var/run/postgresql") },
                    "port" => entry with { Port = v.AsInt(1, 65535, "a port number 1-65535") },
                    "dbname" => entry with { DbName = v.AsString("a database name") },
                    "user" => entry with { User = v.AsString("a user name") },
                    "password" => entry with { Password = v.AsString("a password") },
                    "pool_size" => entry with { PoolSize = v.AsInt(0, int.MaxValue, "a pool size >= 0") },
                    "min_pool_size" => entry with { MinPoolSize = v.AsInt(0, int.MaxValue, "a number >= 0") },
                    "reserve_pool" => entry with { ReservePool = v.AsInt(0, int.MaxValue, "a number >= 0") },
                    "pool_mode" => entry with { PoolMode = ParsePoolMode(v) },
                    "max_db_connections" => entry with { MaxDbConnections = v.AsInt(0, int.MaxValue, "a number >= 0 (0 = unlimited)") },
                    "auth_user" => entry with { AuthUser = v.AsString("a user name") },
                    _ => entry,
                };
            }
            if (entry.Password is not null && entry.User is null)
                throw m.KeyNode("password").Error("a database entry's password belongs to its user; add user: to this entry or remove the password");
            list.Add(entry);
        }
        return list;
    }

    private static IReadOnlyList<PoolerUser> ReadUsers(ConfigNode node)
    {
        var map = node.AsMap("a mapping of user name to its settings, e.g. { dbuser_dba: { pool_mode: session, max_user_connections: 16 } }");
        var list = new List<PoolerUser>(map.Count);
        foreach (var (name, value) in map.Entries)
        {
            var entry = new PoolerUser { Name = name };
            if (!value.IsNull)
            {
                var m = value.AsMap("a mapping such as { pool_mode: session, max_user_connections: 16 }", UserKeys);
                if (m.Get("pool_mode") is { } mode)
                    entry = entry with { PoolMode = ParsePoolMode(mode) };
                if (m.Get("max_user_connections") is { } max)
                    entry = entry with { MaxUserConnections = max.AsInt(0, int.MaxValue, "a number >= 0 (0 = unlimited)") };
            }
            list.Add(entry);
        }
        return list;
    }
}
