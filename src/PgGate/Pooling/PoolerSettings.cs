namespace PgGate.Pooling;

/// <summary>
/// Everything the pooler needs, with PgBouncer's setting names (as PascalCase) and the values Pigsty's
/// <c>pgbouncer.ini</c> sets (reference section 6); where Pigsty sets nothing, PgBouncer's own default. Immutable:
/// <see cref="Pooler.Reload"/> takes a new instance. Durations are PgBouncer's seconds as <see cref="TimeSpan"/>;
/// <see cref="TimeSpan.Zero"/> disables a timeout, as 0 does in PgBouncer.
/// </summary>
public sealed record PoolerSettings
{
    /// <summary>The admin console's database names; connections to them are not pooled.</summary>
    public static readonly IReadOnlyList<string> ConsoleDatabases = ["pgbouncer", "pggate"];

    /// <summary><c>listen_addr</c>: "*" for every IPv4 address, or comma-separated addresses.</summary>
    public string ListenAddr { get; init; } = "*";

    /// <summary><c>listen_port</c>.</summary>
    public int ListenPort { get; init; } = 6432;

    /// <summary><c>pool_mode</c> (Pigsty: transaction).</summary>
    public PoolMode PoolMode { get; init; } = PoolMode.Transaction;

    /// <summary><c>max_client_conn</c>: logged-in and logging-in clients together (Pigsty: 20000).</summary>
    public int MaxClientConn { get; init; } = 20000;

    /// <summary><c>default_pool_size</c>: server connections per (backend, database, user) pool (Pigsty: 50).</summary>
    public int DefaultPoolSize { get; init; } = 50;

    /// <summary><c>min_pool_size</c>: idle server connections kept open per pool that has been used.</summary>
    public int MinPoolSize { get; init; }

    /// <summary><c>reserve_pool_size</c>: extra connections a pool may open once a client waited <see cref="ReservePoolTimeout"/> (Pigsty: 30).</summary>
    public int ReservePoolSize { get; init; } = 30;

    /// <summary><c>reserve_pool_timeout</c> (Pigsty: 1 s).</summary>
    public TimeSpan ReservePoolTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary><c>max_db_connections</c>: server connections per (backend, database), 0 = unlimited (Pigsty: 100).</summary>
    public int MaxDbConnections { get; init; } = 100;

    /// <summary><c>max_user_connections</c>: server connections per (backend, user), 0 = unlimited (Pigsty: 100).</summary>
    public int MaxUserConnections { get; init; } = 100;

    /// <summary><c>server_lifetime</c>: a server connection older than this is closed when it is released (Pigsty: 600 s).</summary>
    public TimeSpan ServerLifetime { get; init; } = TimeSpan.FromSeconds(600);

    /// <summary><c>server_idle_timeout</c>: an idle server connection is closed after this (PgBouncer: 600 s).</summary>
    public TimeSpan ServerIdleTimeout { get; init; } = TimeSpan.FromSeconds(600);

    /// <summary><c>server_reset_query</c>, run when a session-mode client leaves (Pigsty: DISCARD ALL). Empty: none.</summary>
    public string ServerResetQuery { get; init; } = "DISCARD ALL";

    /// <summary><c>server_reset_query_always</c>: run the reset query in transaction and statement mode too.</summary>
    public bool ServerResetQueryAlways { get; init; }

    /// <summary><c>server_connect_timeout</c>: TCP connect plus login to the server (PgBouncer: 15 s).</summary>
    public TimeSpan ServerConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary><c>server_login_retry</c>: after a failed server login, wait this long before trying that pool again (PgBouncer: 15 s).</summary>
    public TimeSpan ServerLoginRetry { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary><c>query_wait_timeout</c>: longest a client waits for a server connection (PgBouncer: 120 s).</summary>
    public TimeSpan QueryWaitTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary><c>client_idle_timeout</c>: a client idle (no server, no request) this long is disconnected.</summary>
    public TimeSpan ClientIdleTimeout { get; init; }

    /// <summary><c>client_login_timeout</c>: time allowed from accept to the end of authentication (PgBouncer: 60 s).</summary>
    public TimeSpan ClientLoginTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary><c>idle_transaction_timeout</c>: a client idle inside a transaction this long is disconnected.</summary>
    public TimeSpan IdleTransactionTimeout { get; init; }

    /// <summary><c>ignore_startup_parameters</c>: startup parameters accepted and dropped instead of refused (Pigsty's list).</summary>
    public IReadOnlyList<string> IgnoreStartupParameters { get; init; } =
        ["extra_float_digits", "application_name", "TimeZone", "DateStyle", "IntervalStyle", "search_path"];

    /// <summary><c>max_prepared_statements</c>: protocol-level prepared statements kept per server connection in
    /// transaction and statement mode; 0 turns tracking off (Pigsty: 256).</summary>
    public int MaxPreparedStatements { get; init; } = 256;

    /// <summary><c>max_packet_size</c>: the largest message a client may send (PgBouncer: 2147483647).</summary>
    public int MaxPacketSize { get; init; } = int.MaxValue;

    /// <summary><c>auth_type</c> (Pigsty: hba).</summary>
    public PoolerAuthType AuthType { get; init; } = PoolerAuthType.Hba;

    /// <summary><c>auth_file</c>: PgBouncer's userlist.txt. Null or a missing file: no users from a file.</summary>
    public string? AuthFile { get; init; } = "/etc/pgbouncer/userlist.txt";

    /// <summary><c>auth_hba_file</c>, used when <see cref="AuthType"/> is <see cref="PoolerAuthType.Hba"/>.</summary>
    public string? AuthHbaFile { get; init; } = "/etc/pgbouncer/pgb_hba.conf";

    /// <summary><c>auth_user</c>: who runs <see cref="AuthQuery"/> for users not in <see cref="AuthFile"/>.</summary>
    public string? AuthUser { get; init; }

    /// <summary><c>auth_query</c>: returns (user name, secret) for $1 (PgBouncer's default).</summary>
    public string AuthQuery { get; init; } = "SELECT usename, passwd FROM pg_shadow WHERE usename=$1";

    /// <summary><c>admin_users</c>: may run every admin console command (Pigsty: postgres, dbuser_dba).</summary>
    public IReadOnlyList<string> AdminUsers { get; init; } = ["postgres", "dbuser_dba"];

    /// <summary><c>stats_users</c>: may run the admin console's SHOW commands (Pigsty: postgres, dbuser_monitor).</summary>
    public IReadOnlyList<string> StatsUsers { get; init; } = ["postgres", "dbuser_monitor"];

    /// <summary><c>client_tls_sslmode</c> (Pigsty: disable).</summary>
    public ClientTlsMode ClientTlsSslMode { get; init; } = ClientTlsMode.Disable;

    /// <summary><c>client_tls_cert_file</c> (PEM).</summary>
    public string? ClientTlsCertFile { get; init; } = "/pg/cert/server.crt";

    /// <summary><c>client_tls_key_file</c> (PEM).</summary>
    public string? ClientTlsKeyFile { get; init; } = "/pg/cert/server.key";

    /// <summary><c>client_tls_ca_file</c> (PEM): the CA client certificates must chain to in verify-ca/verify-full.</summary>
    public string? ClientTlsCaFile { get; init; } = "/pg/cert/ca.crt";

    /// <summary><c>stats_period</c>: how often the averages of SHOW STATS are recomputed (PgBouncer: 60 s).</summary>
    public TimeSpan StatsPeriod { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary><c>[databases]</c>; an entry named "*" serves any other database name.</summary>
    public IReadOnlyList<PoolerDatabase> Databases { get; init; } = [];

    /// <summary><c>[users]</c>.</summary>
    public IReadOnlyList<PoolerUser> Users { get; init; } = [];

    /// <summary>The entry for database <paramref name="name"/>: its own line, else the "*" line, else null (unknown database).</summary>
    public PoolerDatabase? FindDatabase(string name)
    {
        PoolerDatabase? fallback = null;
        foreach (var database in Databases)
        {
            if (string.Equals(database.Name, name, StringComparison.Ordinal))
            {
                return database;
            }

            if (database.IsFallback)
            {
                fallback = database;
            }
        }

        return fallback;
    }

    public PoolerUser? FindUser(string name)
    {
        foreach (var user in Users)
        {
            if (string.Equals(user.Name, name, StringComparison.Ordinal))
            {
                return user;
            }
        }

        return null;
    }

    /// <summary>The pool mode for a client of <paramref name="database"/> logged in as <paramref name="user"/>:
    /// the user's line wins over the database's, which wins over the global one (PgBouncer's order).</summary>
    public PoolMode EffectivePoolMode(PoolerDatabase database, string user) =>
        FindUser(user)?.PoolMode ?? database.PoolMode ?? PoolMode;

    public bool IsAdminUser(string user) => Contains(AdminUsers, user);

    public bool IsStatsUser(string user) => Contains(StatsUsers, user) || IsAdminUser(user);

    internal static bool Contains(IReadOnlyList<string> list, string value)
    {
        foreach (var item in list)
        {
            if (string.Equals(item, value, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
