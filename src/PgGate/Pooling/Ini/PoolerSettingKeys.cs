using static PgGate.Pooling.Ini.SettingValues;

namespace PgGate.Pooling.Ini;

/// <summary>
/// Every <c>[pgbouncer]</c> setting PgGate understands, in PgBouncer's names, and the ones it knows but does not
/// support (each with the reason shown in the "not supported, ignored" warning). Shared by the ini reader, the admin
/// console's SHOW CONFIG and SET.
/// </summary>
public static class PoolerSettingKeys
{
    private const string AuthTypes = "trust, any, plain, md5, scram-sha-256 or hba (cert and pam are not supported)";
    private const string SslModes = "disable, allow, prefer, require, verify-ca or verify-full";

    /// <summary>PgBouncer's own defaults, the starting point of a pgbouncer.ini (a setting the file leaves out behaves
    /// as in PgBouncer). PoolerSettings' defaults are Pigsty's rendered values instead.</summary>
    public static PoolerSettings PgBouncerDefaults { get; } = new()
    {
        ListenAddr = string.Empty,
        ListenPort = 6432,
        PoolMode = PoolMode.Session,
        MaxClientConn = 100,
        DefaultPoolSize = 20,
        MinPoolSize = 0,
        ReservePoolSize = 0,
        ReservePoolTimeout = TimeSpan.FromSeconds(5),
        MaxDbConnections = 0,
        MaxUserConnections = 0,
        ServerLifetime = TimeSpan.FromSeconds(3600),
        ServerIdleTimeout = TimeSpan.FromSeconds(600),
        ServerResetQuery = "DISCARD ALL",
        ServerResetQueryAlways = false,
        ServerConnectTimeout = TimeSpan.FromSeconds(15),
        ServerLoginRetry = TimeSpan.FromSeconds(15),
        QueryWaitTimeout = TimeSpan.FromSeconds(120),
        ClientIdleTimeout = TimeSpan.Zero,
        ClientLoginTimeout = TimeSpan.FromSeconds(60),
        IdleTransactionTimeout = TimeSpan.Zero,
        IgnoreStartupParameters = [],
        MaxPreparedStatements = 200,
        MaxPacketSize = int.MaxValue,
        AuthType = PoolerAuthType.Md5,
        AuthFile = null,
        AuthHbaFile = null,
        AuthUser = null,
        AuthQuery = "SELECT usename, passwd FROM pg_shadow WHERE usename=$1",
        AdminUsers = [],
        StatsUsers = [],
        ClientTlsSslMode = ClientTlsMode.Disable,
        ClientTlsCertFile = null,
        ClientTlsKeyFile = null,
        ClientTlsCaFile = null,
        StatsPeriod = TimeSpan.FromSeconds(60),
    };

    /// <summary>The supported settings, sorted by name (SHOW CONFIG's order).</summary>
    public static IReadOnlyList<PoolerSettingKey> All { get; } = Build();

    /// <summary>The supported setting called <paramref name="name"/> (case-insensitive), or null.</summary>
    public static PoolerSettingKey? Find(string name)
    {
        foreach (var key in All)
        {
            if (string.Equals(key.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return key;
            }
        }

        return null;
    }

    /// <summary>Why a PgBouncer setting PgGate knows is ignored; null when the name is not a PgBouncer setting at all.</summary>
    public static string? IgnoredReason(string name) =>
        Ignored.TryGetValue(name, out var reason) ? reason : null;

    private static readonly Dictionary<string, string> Ignored = new(StringComparer.OrdinalIgnoreCase)
    {
        ["logfile"] = "PgGate logs to stderr; redirect it or let systemd/journald keep it",
        ["pidfile"] = "PgGate does not daemonize; let systemd track the process",
        ["unix_socket_dir"] = "PgGate listens on TCP only (listen_addr); connect with -h <address>",
        ["unix_socket_mode"] = "PgGate listens on TCP only",
        ["unix_socket_group"] = "PgGate listens on TCP only",
        ["user"] = "PgGate does not switch users; start it as the intended user",
        ["log_connections"] = "connections are logged at Debug level (--log-level Debug)",
        ["log_disconnections"] = "disconnections are logged at Debug level (--log-level Debug)",
        ["log_pooler_errors"] = "pooler errors are always sent to clients",
        ["log_stats"] = "use SHOW STATS or /metrics",
        ["stats_users_prefix"] = "not available",
        ["verbose"] = "use --log-level",
        ["syslog"] = "PgGate logs to stderr",
        ["syslog_ident"] = "PgGate logs to stderr",
        ["syslog_facility"] = "PgGate logs to stderr",
        ["application_name_add_host"] = "application_name is passed through unchanged",
        ["server_round_robin"] = "idle server connections are reused most-recently-used first",
        ["server_check_query"] = "PgGate watches idle server connections instead of probing them",
        ["server_check_delay"] = "PgGate watches idle server connections instead of probing them",
        ["server_fast_close"] = "use RECONNECT or KILL",
        ["query_timeout"] = "use PostgreSQL's statement_timeout",
        ["suspend_timeout"] = "SUSPEND and online restart are not supported",
        ["autodb_idle_timeout"] = "databases served by the \"*\" entry are kept while they have pools",
        ["dns_max_ttl"] = "host names are resolved by the operating system on every connect",
        ["dns_nxdomain_ttl"] = "host names are resolved by the operating system on every connect",
        ["dns_zone_check_period"] = "host names are resolved by the operating system on every connect",
        ["resolv_conf"] = "host names are resolved by the operating system",
        ["listen_backlog"] = "the operating system's default backlog is used",
        ["pkt_buf"] = "buffers are sized per message",
        ["sbuf_loopcnt"] = "not applicable to PgGate's I/O model",
        ["max_packet_size_hard"] = "not available",
        ["tcp_defer_accept"] = "not applicable",
        ["tcp_socket_buffer"] = "the operating system's buffer sizes are used",
        ["tcp_keepalive"] = "keepalive is always on with the operating system's timers",
        ["tcp_keepcnt"] = "keepalive uses the operating system's timers",
        ["tcp_keepidle"] = "keepalive uses the operating system's timers",
        ["tcp_keepintvl"] = "keepalive uses the operating system's timers",
        ["tcp_user_timeout"] = "not available",
        ["so_reuseport"] = "PgGate uses every core in one process",
        ["disable_pqexec"] = "not available",
        ["client_tls_protocols"] = "the operating system's TLS defaults (TLS 1.2 and 1.3) are used",
        ["client_tls_ciphers"] = "the operating system's TLS cipher defaults are used",
        ["client_tls_ecdhcurve"] = "the operating system's TLS defaults are used",
        ["client_tls_dheparams"] = "the operating system's TLS defaults are used",
        ["server_tls_sslmode"] = "PgGate connects to servers without TLS",
        ["server_tls_ca_file"] = "PgGate connects to servers without TLS",
        ["server_tls_cert_file"] = "PgGate connects to servers without TLS",
        ["server_tls_key_file"] = "PgGate connects to servers without TLS",
        ["server_tls_protocols"] = "PgGate connects to servers without TLS",
        ["server_tls_ciphers"] = "PgGate connects to servers without TLS",
        ["job_name"] = "not available",
        ["peer_id"] = "peering is not supported",
        ["track_extra_parameters"] = "every reported parameter is tracked",
        ["auth_dbname"] = "auth_query runs in the client's database",
        ["scram_iterations"] = "SCRAM verifiers come from auth_file or PostgreSQL",
        ["client_tls13_ciphers"] = "the operating system's TLS defaults are used",
        ["server_tls13_ciphers"] = "PgGate connects to servers without TLS",
        ["auth_ident_file"] = "ident/peer authentication is not available over TCP",
        ["query_wait_notify"] = "not available",
        ["max_user_client_connections"] = "not available",
        ["max_db_client_connections"] = "not available",
        ["server_drop_on_cached_plan_error"] = "not available",
        ["conffile"] = "set by the command line",
    };

    private static List<PoolerSettingKey> Build()
    {
        List<PoolerSettingKey> keys =
        [
            new("listen_addr", "\"*\" or a comma-separated list of IP addresses", false, s => s.ListenAddr,
                (s, v) => s with { ListenAddr = v.Trim() }),
            new("listen_port", Port, false, s => Format(s.ListenPort), (s, v) => s with { ListenPort = ParseInt(v, 1, 65535, Port) }),
            new("pool_mode", PoolModes, true, s => Format(s.PoolMode), (s, v) => s with { PoolMode = ParsePoolMode(v) }),
            new("max_client_conn", WholeNumber, true, s => Format(s.MaxClientConn), (s, v) => s with { MaxClientConn = ParseInt(v) }),
            new("default_pool_size", WholeNumber, true, s => Format(s.DefaultPoolSize), (s, v) => s with { DefaultPoolSize = ParseInt(v) }),
            new("min_pool_size", WholeNumber, true, s => Format(s.MinPoolSize), (s, v) => s with { MinPoolSize = ParseInt(v) }),
            new("reserve_pool_size", WholeNumber, true, s => Format(s.ReservePoolSize), (s, v) => s with { ReservePoolSize = ParseInt(v) }),
            new("reserve_pool_timeout", Seconds, true, s => Format(s.ReservePoolTimeout), (s, v) => s with { ReservePoolTimeout = ParseSeconds(v) }),
            new("max_db_connections", WholeNumber, true, s => Format(s.MaxDbConnections), (s, v) => s with { MaxDbConnections = ParseInt(v) }),
            new("max_user_connections", WholeNumber, true, s => Format(s.MaxUserConnections), (s, v) => s with { MaxUserConnections = ParseInt(v) }),
            new("server_lifetime", Seconds, true, s => Format(s.ServerLifetime), (s, v) => s with { ServerLifetime = ParseSeconds(v) }),
            new("server_idle_timeout", Seconds, true, s => Format(s.ServerIdleTimeout), (s, v) => s with { ServerIdleTimeout = ParseSeconds(v) }),
            new("server_reset_query", Text, true, s => s.ServerResetQuery, (s, v) => s with { ServerResetQuery = v.Trim() }),
            new("server_reset_query_always", Flag, true, s => Format(s.ServerResetQueryAlways),
                (s, v) => s with { ServerResetQueryAlways = ParseBool(v) }),
            new("server_connect_timeout", Seconds, true, s => Format(s.ServerConnectTimeout),
                (s, v) => s with { ServerConnectTimeout = ParseSeconds(v) }),
            new("server_login_retry", Seconds, true, s => Format(s.ServerLoginRetry), (s, v) => s with { ServerLoginRetry = ParseSeconds(v) }),
            new("query_wait_timeout", Seconds, true, s => Format(s.QueryWaitTimeout), (s, v) => s with { QueryWaitTimeout = ParseSeconds(v) }),
            new("client_idle_timeout", Seconds, true, s => Format(s.ClientIdleTimeout), (s, v) => s with { ClientIdleTimeout = ParseSeconds(v) }),
            new("client_login_timeout", Seconds, true, s => Format(s.ClientLoginTimeout), (s, v) => s with { ClientLoginTimeout = ParseSeconds(v) }),
            new("idle_transaction_timeout", Seconds, true, s => Format(s.IdleTransactionTimeout),
                (s, v) => s with { IdleTransactionTimeout = ParseSeconds(v) }),
            new("ignore_startup_parameters", NameList, true, s => Format(s.IgnoreStartupParameters),
                (s, v) => s with { IgnoreStartupParameters = ParseList(v) }),
            new("max_prepared_statements", WholeNumber, true, s => Format(s.MaxPreparedStatements),
                (s, v) => s with { MaxPreparedStatements = ParseInt(v) }),
            new("max_packet_size", "a whole number of bytes >= 1024", true, s => Format(s.MaxPacketSize),
                (s, v) => s with { MaxPacketSize = ParseInt(v, 1024, int.MaxValue, "a whole number of bytes >= 1024") }),
            new("auth_type", AuthTypes, true, s => FormatAuthType(s.AuthType), (s, v) => s with { AuthType = ParseAuthType(v) }),
            new("auth_file", "a file path", true, s => s.AuthFile ?? string.Empty, (s, v) => s with { AuthFile = NullIfEmpty(v) }),
            new("auth_hba_file", "a file path", true, s => s.AuthHbaFile ?? string.Empty, (s, v) => s with { AuthHbaFile = NullIfEmpty(v) }),
            new("auth_user", "a user name", true, s => s.AuthUser ?? string.Empty, (s, v) => s with { AuthUser = NullIfEmpty(v) }),
            new("auth_query", Text, true, s => s.AuthQuery, (s, v) => s with { AuthQuery = v.Trim() }),
            new("admin_users", NameList, true, s => Format(s.AdminUsers), (s, v) => s with { AdminUsers = ParseList(v) }),
            new("stats_users", NameList, true, s => Format(s.StatsUsers), (s, v) => s with { StatsUsers = ParseList(v) }),
            new("client_tls_sslmode", SslModes, true, s => FormatSslMode(s.ClientTlsSslMode), (s, v) => s with { ClientTlsSslMode = ParseSslMode(v) }),
            new("client_tls_cert_file", "a PEM file path", true, s => s.ClientTlsCertFile ?? string.Empty,
                (s, v) => s with { ClientTlsCertFile = NullIfEmpty(v) }),
            new("client_tls_key_file", "a PEM file path", true, s => s.ClientTlsKeyFile ?? string.Empty,
                (s, v) => s with { ClientTlsKeyFile = NullIfEmpty(v) }),
            new("client_tls_ca_file", "a PEM file path", true, s => s.ClientTlsCaFile ?? string.Empty,
                (s, v) => s with { ClientTlsCaFile = NullIfEmpty(v) }),
            new("stats_period", Seconds, true, s => Format(s.StatsPeriod), (s, v) => s with { StatsPeriod = ParsePositiveSeconds(v) }),
        ];
        keys.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return keys;
    }

    private static TimeSpan ParsePositiveSeconds(string value)
    {
        var seconds = ParseSeconds(value);
        return seconds > TimeSpan.Zero ? seconds : throw new FormatException("a number of seconds > 0");
    }

    private static PoolerAuthType ParseAuthType(string value) => value.Trim().ToLowerInvariant() switch
    {
        "trust" or "any" => PoolerAuthType.Trust,
        "plain" => PoolerAuthType.Password,
        "md5" => PoolerAuthType.Md5,
        "scram-sha-256" => PoolerAuthType.ScramSha256,
        "hba" => PoolerAuthType.Hba,
        _ => throw new FormatException(AuthTypes),
    };

    private static string FormatAuthType(PoolerAuthType type) => type switch
    {
        PoolerAuthType.Trust => "trust",
        PoolerAuthType.Password => "plain",
        PoolerAuthType.Md5 => "md5",
        PoolerAuthType.ScramSha256 => "scram-sha-256",
        _ => "hba",
    };

    private static ClientTlsMode ParseSslMode(string value) => value.Trim().ToLowerInvariant() switch
    {
        "disable" => ClientTlsMode.Disable,
        "allow" => ClientTlsMode.Allow,
        "prefer" => ClientTlsMode.Prefer,
        "require" => ClientTlsMode.Require,
        "verify-ca" => ClientTlsMode.VerifyCa,
        "verify-full" => ClientTlsMode.VerifyFull,
        _ => throw new FormatException(SslModes),
    };

    private static string FormatSslMode(ClientTlsMode mode) => mode switch
    {
        ClientTlsMode.Disable => "disable",
        ClientTlsMode.Allow => "allow",
        ClientTlsMode.Prefer => "prefer",
        ClientTlsMode.Require => "require",
        ClientTlsMode.VerifyCa => "verify-ca",
        _ => "verify-full",
    };
}
