using PgGate.Config;

namespace PgGate.Tests.Config;

public class ConfigReportTests
{
    private static GateConfig Sandbox() =>
        ConfigLoader.LoadPigstyInventoryFromString(File.ReadAllText(Inventories.PathOf("sandbox")), "pigsty.yml");

    [Fact]
    public void The_admin_line_says_when_write_endpoints_need_credentials()
    {
        var config = Sandbox();
        config = config with { Admin = config.Admin with { Username = "pggate", Password = new SecretSource { Value = "x" } } };
        Assert.Contains("\nadmin listen *:9101 (write endpoints need HTTP Basic credentials of user pggate)\n", ConfigReport.Render(config, "pg-test-1"));
    }

    [Fact]
    public void A_node_sees_its_clusters_services_with_servers_in_haproxy_order()
    {
        var text = ConfigReport.Render(Sandbox(), "pg-test-1");
        Assert.StartsWith("configuration pigsty.yml (Pigsty inventory)\nnode pg-test-1 (10.10.10.11)\nadmin listen *:9101\n", text);
        Assert.DoesNotContain("pg-meta", text);
        Assert.Contains("""
              service pg-test-replica  [pigsty.yml:41:21]
                bind *:5434  dest pool  check /read-only  balance roundrobin  maxconn 5000
                selector []  backup [? pg_role == `primary` || pg_role == `offline` ]
                default-server inter 2s fastinter 1s downinter 2s rise 3 fall 3 on-marked-down shutdown-sessions slowstart 30s maxconn 3000 maxqueue 128 weight 100
                server pg-test-1 10.10.10.11:5432 weight 100 backup pooled
                server pg-test-2 10.10.10.12:5432 weight 100 pooled
                server pg-test-3 10.10.10.13:5432 weight 100 pooled

            """, text);
        Assert.Contains("""
                server pg-test-3 10.10.10.13:5432 weight 100
                server pg-test-2 10.10.10.12:5432 weight 100 backup

            """, text);
        Assert.Contains("    pg-test-1 10.10.10.11 primary pg 5432 pooler 6432 patroni 8008 weight 100  <- this node\n", text);
    }

    [Fact]
    public void A_node_can_be_named_by_host_and_without_a_node_every_cluster_shows()
    {
        Assert.Contains("node pg-test-2 (10.10.10.12)", ConfigReport.Render(Sandbox(), "10.10.10.12"));
        var all = ConfigReport.Render(Sandbox());
        Assert.Contains("cluster pg-meta", all);
        Assert.Contains("cluster pg-test", all);
        Assert.Contains("  services run on every member:\n", all);
    }

    [Fact]
    public void An_unknown_node_lists_the_members()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigReport.Render(Sandbox(), "pg-test-9"));
        Assert.Equal("pigsty.yml: node: node pg-test-9 is not a member of any cluster; known members: pg-meta-1 (10.10.10.10), " +
            "pg-test-1 (10.10.10.11), pg-test-2 (10.10.10.12), pg-test-3 (10.10.10.13)", e.Message);
    }

    [Fact]
    public void A_service_without_servers_says_so_and_warnings_close_the_report()
    {
        var config = ConfigLoader.LoadPigstyInventoryFromString("""
            all:
              children:
                pg-meta:
                  hosts: { 10.10.10.10: { pg_seq: 1, pg_role: primary } }
                  vars: { pg_cluster: pg-meta, pg_rto: 30 }
            """, "pigsty.yml");
        var text = ConfigReport.Render(config);
        Assert.Contains("    (no server: neither the selector nor the backup selector matches a member)\n", text);
        Assert.EndsWith("\nwarning: pigsty.yml:5:44: all.children.pg-meta.vars.pg_rto: pg_rto \"30\" is not a plan of pg_rto_plan " +
            "(fast, norm, safe, wide); Pigsty falls back to norm, and so does PgGate\n", text);
    }
}
