using PgGate.Config;
using static PgGate.Tests.Config.Inventories;

namespace PgGate.Tests.Config;

public class PigstyInventoryTests
{
    [Fact]
    public void Sandbox_has_pg_meta_and_pg_test_in_inventory_order()
    {
        var config = Load("sandbox");
        Assert.Equal(ConfigFormat.PigstyInventory, config.Format);
        Assert.Equal(["pg-meta", "pg-test"], config.Clusters.Select(c => c.Name));
        Assert.Equal("*:9101", config.Admin.Listen);
        Assert.Empty(config.Warnings);

        var test = config.FindCluster("pg-test")!;
        Assert.Equal(["pg-test-1", "pg-test-2", "pg-test-3"], test.Members.Select(m => m.Name));
        Assert.Equal(["10.10.10.11", "10.10.10.12", "10.10.10.13"], test.Members.Select(m => m.Host));
        Assert.Equal(["primary", "replica", "replica"], test.Members.Select(m => m.Role));
        Assert.Equal([false, false, true], test.Members.Select(m => m.OfflineQuery));
        Assert.Equal([1, 2, 3], test.Members.Select(m => m.Seq!.Value));
        Assert.All(test.Members, m => Assert.Equal((5432, 6432, 8008, 100), (m.PgPort, m.PoolerPort, m.PatroniPort, m.Weight)));
        Assert.Equal("10.10.10.3", test.Vip);
        Assert.Equal("10.10.10.2", config.FindCluster("pg-meta")!.Vip);
        Assert.Equal(new SourceLocation(PathOf("sandbox"), 37, 9), test.Members[0].Location);
    }

    [Fact]
    public void Default_services_are_pooled_by_pggate_in_pgbouncers_place_with_norm_options()
    {
        var test = Load("sandbox").FindCluster("pg-test")!;
        // Pigsty's pg_default_service_dest pgbouncer: PgGate is the pooler, so primary and replica pool in one hop.
        Assert.Equal(ServiceDestination.Pool, test.DefaultServiceDest);
        Assert.Equal([ServiceDestination.Pool, ServiceDestination.Pool, ServiceDestination.Postgres, ServiceDestination.Postgres], test.Services.Select(s => s.Dest));
        Assert.Equal(["primary", "replica", "default", "offline"], test.Services.Select(s => s.Name));
        Assert.Equal([5433, 5434, 5436, 5438], test.Services.Select(s => s.Port));
        Assert.Equal(["/primary", "/read-only", "/primary", "/replica"], test.Services.Select(s => s.Check));
        Assert.Equal([5432, 5432, 5432, 5432], test.Services.Select(s => s.Dest.PortOn(test.Members[0])));
        Assert.All(test.Services, s =>
        {
            Assert.Equal(RtoPlan.PigstyDefaults["norm"].OptionsText, s.OptionsText);
            Assert.Equal(ServerOptions.Norm, s.Options);
            Assert.Equal(5000, s.MaxConn);
            Assert.Equal("*", s.Ip);
            Assert.Equal(BalanceAlgorithm.RoundRobin, s.Balance);
            Assert.False(s.AllBackups);
        });

        Assert.Equal(["pg-test-1 10.10.10.11:5432", "pg-test-2 10.10.10.12:5432", "pg-test-3 10.10.10.13:5432"], Servers(test, "primary"));
        Assert.Equal(["pg-test-1 10.10.10.11:5432 backup", "pg-test-2 10.10.10.12:5432", "pg-test-3 10.10.10.13:5432"], Servers(test, "replica"));
        Assert.Equal(["pg-test-1 10.10.10.11:5432", "pg-test-2 10.10.10.12:5432", "pg-test-3 10.10.10.13:5432"], Servers(test, "default"));
        Assert.Equal(["pg-test-3 10.10.10.13:5432", "pg-test-2 10.10.10.12:5432 backup"], Servers(test, "offline"));
    }

    [Fact]
    public void Health_defaults_are_pigsty_credentials_and_etcd_from_the_etcd_group()
    {
        var h = Load("sandbox").FindCluster("pg-test")!.Health;
        Assert.Equal(HealthSource.Patroni, h.Source);
        Assert.Equal("norm", h.Rto);
        Assert.Equal(TimeSpan.FromSeconds(3), h.CheckTimeout);
        Assert.Equal("dbuser_monitor", h.Sql.User);
        Assert.Equal("DBUser.Monitor", h.Sql.Password.Value);
        Assert.False(h.Patroni.Ssl);
        Assert.Equal("postgres", h.Patroni.Username);
        Assert.Equal("Patroni.API", h.Patroni.Password.Value);
        Assert.Equal(["https://10.10.10.10:2379"], h.Dcs.Endpoints);
        Assert.Equal("/pg/", h.Dcs.Namespace);
        Assert.Equal("pg-test", h.Dcs.Username);
        Assert.Equal("pg-test", h.Dcs.Password.Value);
        Assert.Equal("/pg/cert/ca.crt", h.Dcs.CaFile);
    }

    [Fact]
    public void Member_documents_are_pigsty_hostvars_plus_pgate_keys()
    {
        var doc = Load("sandbox").FindCluster("pg-test")!.Members[2].Vars;
        Assert.Equal("pg-test", doc["pg_cluster"]);
        Assert.Equal(3L, doc["pg_seq"]);
        Assert.Equal("replica", doc["pg_role"]);
        Assert.Equal(true, doc["pg_offline_query"]);
        Assert.Equal("10.10.10.13", doc["inventory_hostname"]);
        Assert.Equal("pg-test-3", doc["pg_instance"]);
        Assert.Equal("tiny", doc["node_tune"]);       // cluster vars override all.vars
        Assert.Equal("10.10.10.10", doc["admin_ip"]); // all.vars are visible
        Assert.Equal("pg-test-3", doc["name"]);
        Assert.Equal("10.10.10.13", doc["host"]);
        Assert.Equal(true, doc["offline_query"]);
        // Variables Pigsty leaves unset stay unset, so selectors see null exactly as in Pigsty.
        Assert.False(doc.ContainsKey("pg_weight"));
        Assert.False(doc.ContainsKey("pg_port"));
        Assert.False(Load("sandbox").FindCluster("pg-test")!.Members[1].Vars.ContainsKey("pg_offline_query"));
    }

    [Fact]
    public void Single_node_pg_meta()
    {
        var meta = Assert.Single(Load("pg-meta").Clusters);
        var m = Assert.Single(meta.Members);
        Assert.Equal(("pg-meta-1", "10.10.10.10", "primary"), (m.Name, m.Host, m.Role));
        Assert.Null(meta.Vip);
        Assert.Equal(["pg-meta-1 10.10.10.10:5432"], Servers(meta, "primary"));
        Assert.Equal(["pg-meta-1 10.10.10.10:5432 backup"], Servers(meta, "replica"));
        Assert.Equal(["pg-meta-1 10.10.10.10:5432"], Servers(meta, "default"));
        Assert.Empty(Servers(meta, "offline"));
    }

    [Fact]
    public void Extra_standby_service_with_patroni_ssl_and_postgres_as_default_dest()
    {
        var meta = Assert.Single(Load("standby-service").Clusters);
        Assert.Equal(ServiceDestination.Postgres, meta.DefaultServiceDest);
        Assert.True(meta.Health.Patroni.Ssl);
        Assert.Equal("/pg/cert/ca.crt", meta.Health.Patroni.CaFile);
        Assert.Equal(["primary", "replica", "default", "offline", "standby"], meta.Services.Select(s => s.Name));

        var standby = meta.Services[4];
        Assert.Equal(5435, standby.Port);
        Assert.Equal("/sync", standby.Check);
        Assert.Equal(3000, standby.MaxConn);
        Assert.Equal("[? pg_role == `primary`]", standby.Backup);
        Assert.Equal(ServiceDestination.Postgres, standby.Dest);
        Assert.Equal(new SourceLocation(PathOf("standby-service"), 17, 13), standby.Location);
        Assert.Equal(["pg-meta-1 10.10.10.10:5432 backup", "pg-meta-2 10.10.10.11:5432", "pg-meta-3 10.10.10.12:5432"], Servers(meta, "standby"));
        Assert.Equal(["pg-meta-1 10.10.10.10:5432", "pg-meta-2 10.10.10.11:5432", "pg-meta-3 10.10.10.12:5432"], Servers(meta, "primary"));
    }

    [Fact]
    public void Fast_rto_plan_and_custom_ports_and_weight()
    {
        var fast = Assert.Single(Load("rto-fast").Clusters);
        Assert.Equal("fast", fast.Health.Rto);
        Assert.All(fast.Services, s =>
        {
            Assert.Equal(RtoPlan.PigstyDefaults["fast"].OptionsText, s.OptionsText);
            Assert.Equal(TimeSpan.FromSeconds(1), s.Options.Inter);
            Assert.Equal(TimeSpan.FromMilliseconds(500), s.Options.FastInter);
            Assert.Equal(TimeSpan.FromSeconds(1), s.Options.DownInter);
        });
        Assert.Equal([100, 50], fast.Members.Select(m => m.Weight));
        Assert.Equal(["pg-fast-1 10.10.10.21:15432 backup", "pg-fast-2 10.10.10.22:15432"], Servers(fast, "replica"));
        Assert.Equal(["pg-fast-1 10.10.10.21:15432", "pg-fast-2 10.10.10.22:15432"], Servers(fast, "default"));
        Assert.All(fast.Members, m => Assert.Equal(18008, m.PatroniPort));
    }

    [Fact]
    public void Offline_instance_by_role()
    {
        var test = Assert.Single(Load("offline-role").Clusters);
        Assert.Equal(["pg-test-1 10.10.10.11:5432 backup", "pg-test-2 10.10.10.12:5432", "pg-test-3 10.10.10.13:5432 backup"], Servers(test, "replica"));
        Assert.Equal(["pg-test-3 10.10.10.13:5432", "pg-test-2 10.10.10.12:5432 backup"], Servers(test, "offline"));
        Assert.False(test.Members[2].OfflineQuery);
    }

    [Fact]
    public void Offline_queries_by_pg_offline_query_keep_the_inventory_order()
    {
        var test = Assert.Single(Load("offline-query").Clusters);
        Assert.Equal(["pg-test-1", "pg-test-3", "pg-test-2"], test.Members.Select(m => m.Name));
        // pigsty.io's rendered pg-test-replica and pg-test-offline examples, line for line.
        Assert.Equal(["pg-test-1 10.10.10.11:5432 backup", "pg-test-3 10.10.10.13:5432", "pg-test-2 10.10.10.12:5432"], Servers(test, "replica"));
        Assert.Equal(["pg-test-1 10.10.10.11:5432", "pg-test-3 10.10.10.13:5432", "pg-test-2 10.10.10.12:5432"], Servers(test, "primary"));
        Assert.Equal(["pg-test-3 10.10.10.13:5432", "pg-test-2 10.10.10.12:5432 backup"], Servers(test, "offline"));
    }
}
