using PgGate.Config;

namespace PgGate.Tests.Config;

public class NativeConfigTests
{
    private const string Full = """
        clusters:
          pg-test:
            members:
              - { name: pg-test-1, host: 10.10.10.11, role: primary, seq: 1 }
              - { name: pg-test-2, host: 10.10.10.12, role: replica, seq: 2 }
              - { name: pg-test-3, host: 10.10.10.13, role: replica, seq: 3, offline_query: true, weight: 50,
                  pg_port: 5432, pooler_port: 6432, patroni_port: 8008, labels: { zone: a, ssd: true } }
            vip: 10.10.10.3
            default_service_dest: pgbouncer
            health:
              source: sql
              rto: fast
              check_timeout: 2s
              sql: { user: dbuser_monitor, password_file: /etc/pggate/monitor.pass, database: postgres }
              patroni: { ssl: true, ca_file: /pg/cert/ca.crt, username: postgres, password_env: PATRONI_PASSWORD }
              dcs: { endpoints: [ "http://10.10.10.10:2379" ], namespace: /pg }
            services:
              - pigsty-defaults
              - { name: standby, port: 5435, selector: "[]", backup: "[? pg_role == `primary`]", check: /read-only-sync,
                  dest: postgres, maxconn: 3000, balance: leastconn, allbackups: true,
                  options: "inter 1s fastinter 500ms downinter 1s rise 2 fall 2 on-marked-down shutdown-sessions slowstart 10s maxconn 100 maxqueue 10 weight 100",
                  connect_timeout: 1s, queue_timeout: 5s, retries: 2, ip: "*" }
        admin: { listen: "127.0.0.1:9101" }
        """;

    private static GateConfig Load(string yaml) => ConfigLoader.LoadNativeFromString(yaml, "pggate.yml");

    [Fact]
    public void The_full_example_loads_every_field()
    {
        var config = Load(Full);
        Assert.Equal(ConfigFormat.Native, config.Format);
        Assert.Equal("pggate.yml", config.SourceFile);
        Assert.Equal("127.0.0.1:9101", config.Admin.Listen);
        Assert.Empty(config.Warnings);

        var c = Assert.Single(config.Clusters);
        Assert.Equal("pg-test", c.Name);
        Assert.Equal("10.10.10.3", c.Vip);
        Assert.Equal(ServiceDestination.Pgbouncer, c.DefaultServiceDest);
        Assert.Equal(new SourceLocation("pggate.yml", 2, 3), c.Location);

        Assert.Equal(["pg-test-1", "pg-test-2", "pg-test-3"], c.Members.Select(m => m.Name));
        var m3 = c.Members[2];
        Assert.Equal("10.10.10.13", m3.Host);
        Assert.Equal("replica", m3.Role);
        Assert.True(m3.OfflineQuery);
        Assert.Equal(50, m3.Weight);
        Assert.Equal(3, m3.Seq);
        Assert.Equal((5432, 6432, 8008), (m3.PgPort, m3.PoolerPort, m3.PatroniPort));

        var h = c.Health;
        Assert.Equal(HealthSource.Sql, h.Source);
        Assert.Equal("fast", h.Rto);
        Assert.Equal(TimeSpan.FromSeconds(2), h.CheckTimeout);
        Assert.Equal("dbuser_monitor", h.Sql.User);
        Assert.Equal("/etc/pggate/monitor.pass", h.Sql.Password.File);
        Assert.Null(h.Sql.Password.Value);
        Assert.True(h.Patroni.Ssl);
        Assert.Equal("/pg/cert/ca.crt", h.Patroni.CaFile);
        Assert.Equal("PATRONI_PASSWORD", h.Patroni.Password.Env);
        Assert.Equal(["http://10.10.10.10:2379"], h.Dcs.Endpoints);
        Assert.Equal("/pg/", h.Dcs.Namespace);

        Assert.Equal(["primary", "replica", "default", "offline", "standby"], c.Services.Select(s => s.Name));
        var primary = c.Services[0];
        Assert.Equal(5433, primary.Port);
        Assert.Equal(ServiceDestination.Pgbouncer, primary.Dest); // dest: default -> default_service_dest
        Assert.Equal("/primary", primary.Check);
        // rto: fast gives Pigsty's fast line, with the check timeout from health.
        Assert.Equal(RtoPlan.PigstyDefaults["fast"].OptionsText, primary.OptionsText);
        Assert.Equal(TimeSpan.FromMilliseconds(500), primary.Options.FastInter);
        Assert.Equal(TimeSpan.FromSeconds(2), primary.Options.CheckTimeout);
        Assert.Equal(ServiceDestination.Postgres, c.Services[2].Dest);

        var standby = c.Services[4];
        Assert.Equal(5435, standby.Port);
        Assert.Equal("[? pg_role == `primary`]", standby.Backup);
        Assert.Equal("/read-only-sync", standby.Check);
        Assert.Equal(ServiceDestination.Postgres, standby.Dest);
        Assert.Equal(3000, standby.MaxConn);
        Assert.Equal(BalanceAlgorithm.LeastConn, standby.Balance);
        Assert.True(standby.AllBackups);
        Assert.Equal(TimeSpan.FromSeconds(10), standby.Options.SlowStart);
        Assert.Equal(100, standby.Options.MaxConn);
        Assert.Equal(2, standby.Options.Rise);
        Assert.Equal(TimeSpan.FromSeconds(1), standby.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), standby.QueueTimeout);
        Assert.Equal(2, standby.Retries);
        Assert.Equal(new SourceLocation("pggate.yml", 19, 9), standby.Location);
    }

    [Fact]
    public void Member_documents_carry_pgate_and_pigsty_spellings_and_labels()
    {
        var doc = Load(Full).Clusters[0].Members[2].Vars;
        Assert.Equal("pg-test-3", doc["name"]);
        Assert.Equal("10.10.10.13", doc["host"]);
        Assert.Equal("replica", doc["role"]);
        Assert.Equal(true, doc["offline_query"]);
        Assert.Equal(50L, doc["weight"]);
        Assert.Equal(3L, doc["seq"]);
        Assert.Equal("pg-test", doc["pg_cluster"]);
        Assert.Equal("pg-test-3", doc["pg_instance"]);
        Assert.Equal("replica", doc["pg_role"]);
        Assert.Equal(true, doc["pg_offline_query"]);
        Assert.Equal(50L, doc["pg_weight"]);
        Assert.Equal(3L, doc["pg_seq"]);
        Assert.Equal("10.10.10.13", doc["inventory_hostname"]);
        Assert.Equal(6432L, doc["pgbouncer_port"]);
        Assert.Equal("a", doc["zone"]);
        Assert.Equal(true, doc["ssd"]);
    }

    [Fact]
    public void Pigsty_selectors_work_unchanged_on_native_members()
    {
        var c = Load(Full).Clusters[0];
        var offline = c.Services.Single(s => s.Name == "offline");
        var documents = c.Members.Select(m => m.Vars).ToList();
        var plan = PgGate.Services.Selection.ServerPlan.Build(offline, documents);
        Assert.Equal([new("pg-test-3", false), new PgGate.Services.Selection.PlannedServer("pg-test-2", true)], plan);
    }

    [Fact]
    public void Admin_credentials_come_from_a_file_and_are_read_when_used()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "first\n");
            var config = Load($$"""
                clusters:
                  pg-meta:
                    members:
                      - { name: pg-meta-1, host: 127.0.0.11, role: primary }
                admin: { listen: "127.0.0.1:9101", username: pggate, password_file: {{file}} }
                """);
            Assert.True(config.Admin.RequiresAuthentication);
            Assert.Equal("pggate", config.Admin.Username);
            Assert.Equal("first", config.Admin.Password.Resolve());
            File.WriteAllText(file, "rotated\n");
            Assert.Equal("rotated", config.Admin.Password.Resolve());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void A_minimal_cluster_gets_pigsty_default_services_to_postgres()
    {
        var config = Load("""
            clusters:
              pg-meta:
                members:
                  - { name: pg-meta-1, host: 127.0.0.11, role: primary }
            """);
        var c = config.Clusters[0];
        Assert.Equal("*:9101", config.Admin.Listen);
        Assert.False(config.Admin.RequiresAuthentication);
        Assert.Equal(HealthSource.Patroni, c.Health.Source);
        Assert.Equal("norm", c.Health.Rto);
        Assert.Equal(ServiceDestination.Postgres, c.DefaultServiceDest);
        Assert.Equal(["primary", "replica", "default", "offline"], c.Services.Select(s => s.Name));
        Assert.Equal([5433, 5434, 5436, 5438], c.Services.Select(s => s.Port));
        Assert.All(c.Services, s => Assert.Equal(ServiceDestination.Postgres, s.Dest));
        Assert.All(c.Services, s => Assert.Equal(ServerOptions.Norm, s.Options));
        // The defaults point at the cluster, where they were pulled in.
        Assert.All(c.Services, s => Assert.Equal(new SourceLocation("pggate.yml", 2, 3), s.Location));
        var doc = c.Members[0].Vars;
        Assert.False(doc.ContainsKey("pg_seq"));
        Assert.Equal(false, doc["pg_offline_query"]);
        Assert.Equal(100L, doc["pg_weight"]);
    }

    [Fact]
    public void Services_may_be_written_as_the_single_word_pigsty_defaults()
    {
        var c = Load("""
            clusters:
              pg-test:
                members: [ { name: a, host: 127.0.0.11, role: primary } ]
                default_service_dest: pool
                services: pigsty-defaults
            pooler: {}
            """).Clusters[0];
        Assert.Equal(4, c.Services.Count);
        Assert.Equal(ServiceDestination.Pool, c.Services[0].Dest);
        Assert.Equal(ServiceDestination.Postgres, c.Services[2].Dest);
        Assert.Equal(new SourceLocation("pggate.yml", 5, 15), c.Services[0].Location);
    }

    [Fact]
    public void A_port_number_dest_and_health_options_override()
    {
        var c = Load("""
            clusters:
              pg-test:
                members: [ { name: a, host: 127.0.0.11, role: primary } ]
                health: { rto: wide, options: "inter 5s fall 2" }
                services:
                  - { name: raw, port: 7000, dest: 15432 }
                  - { name: own, port: 7001, options: "inter 1s" }
            """).Clusters[0];
        Assert.Equal(new ServiceDestination(DestinationKind.Port, 15432), c.Services[0].Dest);
        Assert.Equal(15432, c.Services[0].Dest.PortOn(c.Members[0]));
        Assert.Equal("[]", c.Services[0].Selector);
        Assert.Equal("inter 5s fall 2", c.Services[0].OptionsText);
        Assert.Equal(TimeSpan.FromSeconds(5), c.Services[0].Options.Inter);
        Assert.Equal(2, c.Services[0].Options.Fall);
        Assert.Equal("inter 1s", c.Services[1].OptionsText);
    }

    [Fact]
    public void Secrets_may_come_inline_from_the_environment_or_from_a_file()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "s3cret\n");
            var yaml = $$"""
                clusters:
                  pg-test:
                    members: [ { name: a, host: 127.0.0.11, role: primary } ]
                    health:
                      sql: { password_file: {{file}} }
                      patroni: { password: inline }
                      dcs: { endpoints: [ "https://127.0.0.1:2379" ], password_env: PGGATE_TEST_DCS_SECRET }
                """;
            var h = Load(yaml).Clusters[0].Health;
            Assert.Equal("s3cret", h.Sql.Password.Resolve());
            Assert.Equal("inline", h.Patroni.Password.Resolve());
            Environment.SetEnvironmentVariable("PGGATE_TEST_DCS_SECRET", "from-env");
            Assert.Equal("from-env", h.Dcs.Password.Resolve());
            Assert.False(new SqlCheckConfig().Password.IsSet);
        }
        finally
        {
            File.Delete(file);
            Environment.SetEnvironmentVariable("PGGATE_TEST_DCS_SECRET", null);
        }
    }

    [Fact]
    public void Yaml_anchors_and_merge_keys_work_with_keys_written_winning()
    {
        var members = Load("""
            clusters:
              pg-test:
                members:
                  - { name: a, host: 127.0.0.11, role: primary }
                  - &replica { name: b, host: 127.0.0.12, role: replica, weight: 10 }
                  - { <<: *replica, name: c, host: 127.0.0.13, weight: 20 }
            """).Clusters[0].Members;
        Assert.Equal(("b", "replica", 10), (members[1].Name, members[1].Role, members[1].Weight));
        Assert.Equal(("c", "127.0.0.13", "replica", 20), (members[2].Name, members[2].Host, members[2].Role, members[2].Weight));
    }

    [Fact]
    public void Members_may_share_a_host_on_distinct_ports()
    {
        var c = Load("""
            clusters:
              pg-local:
                members:
                  - { name: a, host: 127.0.0.1, role: primary, pg_port: 15432, pooler_port: 16432, patroni_port: 18008 }
                  - { name: b, host: 127.0.0.1, role: replica, pg_port: 15433, pooler_port: 16433, patroni_port: 18009 }
            """).Clusters[0];
        Assert.Equal(2, c.Members.Count);
    }
}
