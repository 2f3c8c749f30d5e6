using PgGate.Config;
using PgGate.Pooling;

namespace PgGate.Tests.Config;

/// <summary>The pooler's configuration: native <c>pooler:</c> with PgBouncer's names, and Pigsty's pgbouncer variables.</summary>
public class PoolerConfigTests
{
    private const string OneCluster = """
        clusters:
          pg-test:
            members:
              - { name: pg-test-1, host: 10.10.10.11, role: primary }
              - { name: pg-test-2, host: 10.10.10.12, role: replica, pooler_port: 7433 }

        """;

    private static GateConfig Native(string yaml) => ConfigLoader.LoadNativeFromString(yaml, "pggate.yml");

    private static string NativeError(string yaml) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.LoadNativeFromString(yaml, "pggate.yml")).Message;

    private static GateConfig Pigsty(string yaml) => ConfigLoader.LoadPigstyInventoryFromString(yaml, "pigsty.yml");

    [Fact]
    public void An_empty_pooler_section_gives_pigstys_pgbouncer_settings_and_serves_every_database()
    {
        var c = Native(OneCluster + "pooler: {}\n").Clusters[0];
        var pooler = Assert.IsType<PoolerConfig>(c.Pooler);
        var s = pooler.Settings;
        Assert.True(pooler.Listen);
        Assert.Equal((6432, PoolMode.Transaction, 20000, 50, 30, 100, 100), (s.ListenPort, s.PoolMode, s.MaxClientConn, s.DefaultPoolSize, s.ReservePoolSize, s.MaxDbConnections, s.MaxUserConnections));
        Assert.Equal(PoolerAuthType.Hba, s.AuthType);
        Assert.Equal(("/etc/pgbouncer/userlist.txt", "/etc/pgbouncer/pgb_hba.conf"), (s.AuthFile, s.AuthHbaFile));
        Assert.Equal(["postgres", "dbuser_dba"], s.AdminUsers);
        var all = Assert.Single(s.Databases);
        Assert.True(all.IsFallback);
        Assert.Null(all.Host);
        Assert.Equal([6432, 7433], c.Members.Select(m => m.PoolerPort));
        // No dest: pool without being asked: Pigsty-default services keep the cluster's default destination.
        Assert.Equal(ServiceDestination.Postgres, c.Services[0].Dest);
    }

    [Fact]
    public void Every_pgbouncer_setting_is_read_with_pgbouncers_name_and_units()
    {
        var c = Native(OneCluster + """
            pooler:
              port: 16432
              listen_addr: "10.10.10.11,127.0.0.1"
              listen: false
              pool_mode: session
              max_client_conn: 500
              default_pool_size: 20
              min_pool_size: 2
              reserve_pool_size: 5
              reserve_pool_timeout: 0.5
              max_db_connections: 40
              max_user_connections: 0
              server_lifetime: 1h
              server_idle_timeout: 30
              server_reset_query: ""
              server_reset_query_always: true
              server_connect_timeout: 2s
              server_login_retry: 500ms
              query_wait_timeout: 10
              client_idle_timeout: 0
              client_login_timeout: 5
              idle_transaction_timeout: 1m
              ignore_startup_parameters: extra_float_digits, search_path
              max_prepared_statements: 0
              max_packet_size: 65536
              auth_type: scram-sha-256
              auth_file: /etc/pggate/userlist.txt
              auth_hba_file: /etc/pggate/hba.conf
              auth_user: postgres
              auth_query: SELECT usename, passwd FROM pg_shadow WHERE usename=$1
              admin_users: [ admin ]
              stats_users: "stats, monitor"
              client_tls_sslmode: verify-full
              client_tls_cert_file: /tls/server.crt
              client_tls_key_file: /tls/server.key
              client_tls_ca_file: /tls/ca.crt
              databases:
                meta: { dbname: meta_db, pool_size: 10, min_pool_size: 1, reserve_pool: 3, pool_mode: statement, max_db_connections: 15, auth_user: dbuser_meta }
                other: { host: /var/run/postgresql, port: 5433, user: app, password: secret }
                "*":
              users:
                dbuser_dba: { pool_mode: session, max_user_connections: 16 }
                plain:
            """).Clusters[0];
        var pooler = c.Pooler!;
        var s = pooler.Settings;
        Assert.False(pooler.Listen);
        Assert.Equal((16432, "10.10.10.11,127.0.0.1", PoolMode.Session), (s.ListenPort, s.ListenAddr, s.PoolMode));
        Assert.Equal((500, 20, 2, 5, 40, 0), (s.MaxClientConn, s.DefaultPoolSize, s.MinPoolSize, s.ReservePoolSize, s.MaxDbConnections, s.MaxUserConnections));
        Assert.Equal(TimeSpan.FromMilliseconds(500), s.ReservePoolTimeout);
        Assert.Equal((TimeSpan.FromHours(1), TimeSpan.FromSeconds(30)), (s.ServerLifetime, s.ServerIdleTimeout));
        Assert.Equal(("", true), (s.ServerResetQuery, s.ServerResetQueryAlways));
        Assert.Equal((TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10)), (s.ServerConnectTimeout, s.ServerLoginRetry, s.QueryWaitTimeout));
        Assert.Equal((TimeSpan.Zero, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1)), (s.ClientIdleTimeout, s.ClientLoginTimeout, s.IdleTransactionTimeout));
        Assert.Equal(["extra_float_digits", "search_path"], s.IgnoreStartupParameters);
        Assert.Equal((0, 65536), (s.MaxPreparedStatements, s.MaxPacketSize));
        Assert.Equal((PoolerAuthType.ScramSha256, "/etc/pggate/userlist.txt", "/etc/pggate/hba.conf", "postgres"), (s.AuthType, s.AuthFile, s.AuthHbaFile, s.AuthUser));
        Assert.Equal("SELECT usename, passwd FROM pg_shadow WHERE usename=$1", s.AuthQuery);
        Assert.Equal(["admin"], s.AdminUsers);
        Assert.Equal(["stats", "monitor"], s.StatsUsers);
        Assert.Equal((ClientTlsMode.VerifyFull, "/tls/server.crt", "/tls/server.key", "/tls/ca.crt"), (s.ClientTlsSslMode, s.ClientTlsCertFile, s.ClientTlsKeyFile, s.ClientTlsCaFile));
        Assert.Equal(["meta", "other", "*"], s.Databases.Select(d => d.Name));
        Assert.Equal(new PoolerDatabase { Name = "meta", DbName = "meta_db", PoolSize = 10, MinPoolSize = 1, ReservePool = 3, PoolMode = PoolMode.Statement, MaxDbConnections = 15, AuthUser = "dbuser_meta" }, s.Databases[0]);
        Assert.Equal(new PoolerDatabase { Name = "other", Host = "/var/run/postgresql", Port = 5433, User = "app", Password = "secret" }, s.Databases[1]);
        Assert.Equal([new PoolerUser { Name = "dbuser_dba", PoolMode = PoolMode.Session, MaxUserConnections = 16 }, new PoolerUser { Name = "plain" }], s.Users);
        Assert.Equal([16432, 7433], c.Members.Select(m => m.PoolerPort));
    }

    [Theory]
    [InlineData("pooler: { pool_mode: transactoin }\n", "pggate.yml:6:22: pooler.pool_mode: expected session, transaction or statement, found \"transactoin\"")]
    [InlineData("pooler: { pool_sise: 5 }\n", "pggate.yml:6:11: pooler.pool_sise: unknown key 'pool_sise'")]
    [InlineData("pooler: { query_wait_timeout: soon }\n", "pggate.yml:6:31: pooler.query_wait_timeout: expected a duration: seconds as a bare number")]
    [InlineData("pooler: { auth_type: ldap }\n", "pggate.yml:6:22: pooler.auth_type: expected hba, scram-sha-256, md5, plain (or password) or trust, found \"ldap\"")]
    [InlineData("pooler: { client_tls_sslmode: on }\n", "pggate.yml:6:31: pooler.client_tls_sslmode: expected disable, allow, prefer, require, verify-ca or verify-full")]
    [InlineData("pooler: { default_pool_size: 0 }\n", "pggate.yml:6:30: pooler.default_pool_size: expected a pool size >= 1")]
    [InlineData("pooler: { databases: { meta: { pool_size: -1 } } }\n", "pggate.yml:6:43: pooler.databases.meta.pool_size: expected a pool size >= 0")]
    [InlineData("pooler: { databases: { meta: { hots: x } } }\n", "pggate.yml:6:32: pooler.databases.meta.hots: unknown key 'hots'; did you mean 'host'?")]
    [InlineData("pooler: { users: { app: { pool_mode: none } } }\n", "pggate.yml:6:38: pooler.users.app.pool_mode: expected session, transaction or statement, found \"none\"")]
    public void Mistakes_in_the_pooler_section_name_file_line_and_key(string pooler, string expected)
    {
        Assert.StartsWith(expected, NativeError(OneCluster + pooler));
    }

    [Fact]
    public void A_pooled_service_needs_a_pooler_section()
    {
        var message = NativeError(OneCluster + "    services:\n      - { name: primary, port: 5433, dest: pool }\n");
        Assert.StartsWith("pggate.yml:7:17: clusters.pg-test.services[0].name: service primary has dest pool (PgGate's pooler), but the file has no 'pooler:' section", message);
    }

    [Fact]
    public void Check_config_prints_the_pooler()
    {
        var config = Native(OneCluster + "    default_service_dest: pool\npooler: { auth_type: md5, auth_file: /etc/pggate/userlist.txt, databases: { meta: { pool_size: 10 } }, users: { dbuser_dba: { pool_mode: session } } }\n");
        var text = ConfigReport.Render(config, "pg-test-2");
        Assert.Contains("  pooler  [pggate.yml:", text);
        Assert.Contains("    listen *:7433 -> 10.10.10.12:5432  pool_mode transaction\n", text);
        Assert.Contains("    auth_type md5  auth_file /etc/pggate/userlist.txt\n", text);
        Assert.Contains("    database meta = host=<the member's PostgreSQL> pool_size=10\n", text);
        Assert.Contains("    user dbuser_dba = pool_mode=session\n", text);
        Assert.Contains("bind *:5433  dest pool  check /primary", text);
        Assert.Contains("    server pg-test-1 10.10.10.11:5432 weight 100 pooled\n", text);
    }

    private const string Inventory = """
        all:
          children:
            pg-test:
              hosts:
                10.10.10.11: { pg_seq: 1, pg_role: primary }
                10.10.10.12: { pg_seq: 2, pg_role: replica, pgbouncer_port: 6433 }
              vars:
                pg_cluster: pg-test
                pgbouncer_poolmode: session
                pgbouncer_auth_query: true
                pgbouncer_sslmode: require
                pgbouncer_ignore_param: [ extra_float_digits ]
                pg_users:
                  - { name: dbuser_meta, password: DBUser.Meta, pgbouncer: true, pool_mode: transaction, pool_connlimit: 32 }
                  - { name: dbuser_view, password: DBUser.View, pgbouncer: true }
                pg_databases:
                  - { name: meta, owner: dbuser_meta, pool_auth_user: dbuser_meta, pool_mode: statement, pool_size: 64, pool_size_min: 2, pool_reserve: 8, pool_connlimit: 100 }
                  - { name: hidden, pgbouncer: false }
                  - { name: gone, state: absent }
                  - { name: plain }
        """;

    [Fact]
    public void Pigsty_pgbouncer_variables_become_the_pooler_as_pigsty_renders_pgbouncer_ini()
    {
        var c = Pigsty(Inventory).Clusters[0];
        var s = c.Pooler!.Settings;
        Assert.Equal((PoolMode.Session, ClientTlsMode.Require, PoolerAuthType.Hba), (s.PoolMode, s.ClientTlsSslMode, s.AuthType));
        Assert.Equal(("postgres", "SELECT username, password FROM monitor.pgbouncer_auth($1)"), (s.AuthUser, s.AuthQuery));
        Assert.Equal(["extra_float_digits"], s.IgnoreStartupParameters);
        Assert.Equal(["postgres", "dbuser_dba"], s.AdminUsers);
        Assert.Equal(["postgres", "dbuser_monitor"], s.StatsUsers);
        Assert.Equal(["meta", "plain"], s.Databases.Select(d => d.Name));
        Assert.Equal(new PoolerDatabase { Name = "meta", AuthUser = "dbuser_meta", PoolMode = PoolMode.Statement, PoolSize = 64, MinPoolSize = 2, ReservePool = 8, MaxDbConnections = 100 }, s.Databases[0]);
        Assert.Null(s.Databases[1].Host);
        Assert.Equal(
            [
                new PoolerUser { Name = "dbuser_dba", PoolMode = PoolMode.Session, MaxUserConnections = 16 },
                new PoolerUser { Name = "dbuser_monitor", PoolMode = PoolMode.Session, MaxUserConnections = 8 },
                new PoolerUser { Name = "dbuser_meta", PoolMode = PoolMode.Transaction, MaxUserConnections = 32 },
            ], s.Users);
        Assert.Equal([6432, 6433], c.Members.Select(m => m.PoolerPort));
        Assert.Equal(ServiceDestination.Pool, c.DefaultServiceDest);
        Assert.Equal([DestinationKind.Pool, DestinationKind.Pool, DestinationKind.Postgres, DestinationKind.Postgres], c.Services.Select(x => x.Dest.Kind));
    }

    [Fact]
    public void Without_pgbouncer_pgbouncer_destinations_stay_relays_to_the_members_pooler_port()
    {
        var c = Pigsty(Inventory.Replace("pg_cluster: pg-test", "pg_cluster: pg-test\n        pgbouncer_enabled: false", StringComparison.Ordinal)).Clusters[0];
        Assert.Null(c.Pooler);
        Assert.Equal(ServiceDestination.Pgbouncer, c.DefaultServiceDest);
        Assert.Equal([6432, 6432, 5432, 5432], c.Services.Select(x => x.Dest.PortOn(c.Members[0])));
    }

    [Fact]
    public void A_bad_pigsty_pool_mode_names_the_variable()
    {
        var e = Assert.Throws<ConfigException>(() => Pigsty(Inventory.Replace("pgbouncer_poolmode: session", "pgbouncer_poolmode: sesion", StringComparison.Ordinal)));
        Assert.StartsWith("pigsty.yml:9:29: all.children.pg-test.vars.pgbouncer_poolmode: expected session, transaction or statement, found \"sesion\"", e.Message);
    }
}
