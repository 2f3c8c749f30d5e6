using PgGate.Config;
using static PgGate.Tests.Config.Inventories;

namespace PgGate.Tests.Config;

/// <summary>Pigsty's pg_id rules and PgGate's own limits, each error naming file:line:column and the variable's key path.</summary>
public class PigstyInventoryErrorTests
{
    private const string Hosts = "all:\n  children:\n    pg-test:\n      hosts:\n";
    private const string ClusterVars = "      vars: { pg_cluster: pg-test }\n";

    private static string Error(string yaml) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.LoadPigstyInventoryFromString(yaml, "pigsty.yml")).Message;

    private static GateConfig Load(string yaml) => ConfigLoader.LoadPigstyInventoryFromString(yaml, "pigsty.yml");

    [Fact]
    public void Admin_credentials_come_in_pairs()
    {
        var config = Load(Hosts + "        10.10.10.11: { pg_seq: 1, pg_role: primary }\n" +
            "      vars: { pg_cluster: pg-test, pggate_admin_username: pggate, pggate_admin_password: Secret.1 }\n");
        Assert.Equal("pggate", config.Admin.Username);
        Assert.Equal("Secret.1", config.Admin.Password.Resolve());

        Assert.Equal("pigsty.yml:6:59: all.children.pg-test.vars.pggate_admin_username: pggate_admin_username and pggate_admin_password go together " +
            "(HTTP Basic credentials for the admin API); set both or neither",
            Error(Hosts + "        10.10.10.11: { pg_seq: 1, pg_role: primary }\n      vars: { pg_cluster: pg-test, pggate_admin_username: pggate }\n"));
    }

    [Fact]
    public void A_member_without_pg_seq()
    {
        Assert.Equal("pigsty.yml:5:9: all.children.pg-test.hosts[\"10.10.10.11\"]: host 10.10.10.11 is in cluster pg-test but has no pg_seq; " +
            "Pigsty requires pg_cluster, a numeric pg_seq and a valid pg_role on every member",
            Error(Hosts + "        10.10.10.11: { pg_role: primary }\n" + ClusterVars));
    }

    [Fact]
    public void Pg_seq_must_be_numeric_and_unique()
    {
        Assert.Equal("pigsty.yml:5:32: all.children.pg-test.hosts[\"10.10.10.11\"].pg_seq: expected a numeric pg_seq such as 1, found \"one\"",
            Error(Hosts + "        10.10.10.11: { pg_seq: one, pg_role: primary }\n" + ClusterVars));
        Assert.Equal("pigsty.yml:6:32: all.children.pg-test.hosts[\"10.10.10.12\"].pg_seq: pg_seq 1 of host 10.10.10.12 is already used by " +
            "pg-test-1 (pigsty.yml:5:32); pg_seq must be unique within cluster pg-test",
            Error(Hosts + "        10.10.10.11: { pg_seq: 1, pg_role: primary }\n        10.10.10.12: { pg_seq: 1, pg_role: replica }\n" + ClusterVars));
    }

    [Fact]
    public void Pg_role_must_be_a_pigsty_role()
    {
        Assert.Equal("pigsty.yml:5:44: all.children.pg-test.hosts[\"10.10.10.11\"].pg_role: expected a pg_role: primary, replica, standby, " +
            "offline, delayed, found \"master\"",
            Error(Hosts + "        10.10.10.11: { pg_seq: 1, pg_role: master }\n" + ClusterVars));
    }

    [Fact]
    public void Exactly_one_primary_per_cluster()
    {
        Assert.Equal("pigsty.yml:6:44: all.children.pg-test.hosts[\"10.10.10.12\"].pg_role: cluster pg-test has more than one primary: " +
            "pg-test-1 (pigsty.yml:5:44) and pg-test-2; exactly one member must have role primary",
            Error(Hosts + "        10.10.10.11: { pg_seq: 1, pg_role: primary }\n        10.10.10.12: { pg_seq: 2, pg_role: primary }\n" + ClusterVars));
        Assert.Equal("pigsty.yml:6:27: all.children.pg-test.vars.pg_cluster: cluster pg-test has no primary; exactly one member must have " +
            "role primary (members: pg-test-1 replica)",
            Error(Hosts + "        10.10.10.11: { pg_seq: 1, pg_role: replica }\n" + ClusterVars));
    }

    [Theory]
    [InlineData("pg_test", "expected a cluster name matching ^[A-Za-z0-9-]+$ other than 'root' (Pigsty's pg_id rule), found \"pg_test\"")]
    [InlineData("root", "expected a cluster name matching ^[A-Za-z0-9-]+$ other than 'root' (Pigsty's pg_id rule), found \"root\"")]
    [InlineData("123", "expected a cluster name string such as pg-test (Pigsty: pg_cluster is string), found \"123\"")]
    public void Pg_cluster_follows_pg_id(string name, string problem)
    {
        Assert.Equal("pigsty.yml:6:27: all.children.pg-test.vars.pg_cluster: " + problem,
            Error(Hosts + "        10.10.10.11: { pg_seq: 1, pg_role: primary }\n      vars: { pg_cluster: " + name + " }\n"));
    }

    [Fact]
    public void Values_out_of_range_and_jinja_templates()
    {
        Assert.Equal("pigsty.yml:5:64: all.children.pg-test.hosts[\"10.10.10.11\"].pg_weight: expected a pg_weight 0-256, found \"300\"",
            Error(Hosts + "        10.10.10.11: { pg_seq: 1, pg_role: primary, pg_weight: 300 }\n" + ClusterVars));
        Assert.Equal("pigsty.yml:5:62: all.children.pg-test.hosts[\"10.10.10.11\"].pg_port: the value \"{{ port }}\" is a Jinja template, " +
            "which PgGate does not evaluate; write the value itself",
            Error(Hosts + "        10.10.10.11: { pg_seq: 1, pg_role: primary, pg_port: \"{{ port }}\" }\n" + ClusterVars));
    }

    [Fact]
    public void Cluster_level_variables_must_agree_across_members()
    {
        Assert.Equal("pigsty.yml:5:61: all.children.pg-test.hosts[\"10.10.10.11\"].pg_rto: pg_rto differs between 10.10.10.11 (\"fast\" at " +
            "pigsty.yml:5:61) and 10.10.10.12 (not set); PgGate needs one value for every member of pg-test, so set it in the cluster's vars",
            Error(Hosts + "        10.10.10.11: { pg_seq: 1, pg_role: primary, pg_rto: fast }\n        10.10.10.12: { pg_seq: 2, pg_role: replica }\n" +
                ClusterVars));
    }

    [Fact]
    public void Service_mistakes_in_pg_services()
    {
        const string Prefix = "all:\n  children:\n    pg-test:\n      hosts:\n        10.10.10.11: { pg_seq: 1, pg_role: primary }\n      vars:\n" +
            "        pg_cluster: pg-test\n";
        Assert.Equal("pigsty.yml:8:24: all.children.pg-test.vars.pg_services[0].selector: missing; Pigsty requires a selector, e.g. selector: \"[]\"",
            Error(Prefix + "        pg_services: [ { name: x, port: 6000 } ]\n"));
        Assert.StartsWith("pigsty.yml:8:72: all.children.pg-test.vars.pg_services[0].options: on-marked-up is not supported by PgGate",
            Error(Prefix + "        pg_services: [ { name: x, port: 6000, selector: '[]', options: 'inter 1s on-marked-up shutdown-backup-sessions' } ]\n"));
        Assert.Equal("pigsty.yml:8:22: all.children.pg-test.vars.pg_rto_plan: pg_rto_plan has no 'norm' plan, which cluster pg-test needs; " +
            "add it or use a plan it has",
            Error(Prefix + "        pg_rto_plan: { fast: [ 20 ,5 ,5 ,15 ,5 ,'1s' ,'0.5s' ,'1s' ,3 ,3 ] }\n"));
        Assert.Equal("pigsty.yml:8:31: all.children.pg-test.vars.pggate_health_source: expected a health source: patroni, sql or dcs, found \"etcd\"",
            Error(Prefix + "        pggate_health_source: etcd\n"));
        Assert.Equal("pigsty.yml:8:31: all.children.pg-test.vars.pggate_health_source: pggate_health_source dcs needs etcd, but the inventory " +
            "has no 'etcd' group with hosts",
            Error(Prefix + "        pggate_health_source: dcs\n"));
    }

    [Fact]
    public void Not_an_inventory_of_postgres_clusters()
    {
        Assert.Equal("pigsty.yml: the inventory is empty; expected 'all:' with children, hosts and vars", Error(""));
        Assert.StartsWith("pigsty.yml:1:1: no host has pg_cluster, so the inventory defines no PostgreSQL cluster", Error("all:\n  vars: { x: 1 }\n"));
        Assert.Equal("pigsty.yml:1:1: plugin: this is an inventory plugin configuration, not a YAML inventory; give PgGate the YAML inventory itself",
            Error("plugin: aws_ec2\n"));
        Assert.Equal("pigsty.yml:5:9: all.children.pg-test.hosts[\"db[1:3]\"]: host pattern 'db[1:3]' uses a range or brackets, which PgGate " +
            "does not expand; list the hosts one by one",
            Error(Hosts + "        db[1:3]: { pg_seq: 1, pg_role: primary }\n" + ClusterVars));
    }

    [Fact]
    public void Pigsty_quirks_are_reproduced_with_warnings()
    {
        var config = Inventories.Load("pigsty-quirks");
        var file = PathOf("pigsty-quirks");
        Assert.Equal(
        [
            file + ":10:17: all.children.pg-test.vars.pg_rto: pg_rto \"30\" is not a plan of pg_rto_plan (fast, norm, safe, wide); " +
                "Pigsty falls back to norm, and so does PgGate",
            file + ":7:71: all.children.pg-test.hosts[\"10.10.10.11\"].pg_offline_query: pg_offline_query \"false\" reads as false in Pigsty's " +
                "templates but as true in its JMESPath selectors (PgGate's selectors follow Pigsty's); write true or false unquoted",
            file + ":12:66: all.children.pg-test.vars.pg_services[0].comment: unknown service key 'comment' is ignored (as Pigsty ignores it)",
            file + ":12:58: all.children.pg-test.vars.pg_services[0].dest: dest \"6432\" is a quoted number, which Pigsty's template treats " +
                "as a string; write it unquoted to mean that port; Pigsty sends such a service to port 5432, and so does PgGate",
            file + ":13:58: all.children.pg-test.vars.pg_services[1].dest: dest \"pool\" is not default, postgres, pgbouncer or a number; " +
                "Pigsty sends such a service to port 5432, and so does PgGate",
        ], config.Warnings);

        var c = config.Clusters[0];
        Assert.Equal("norm", c.Health.Rto);
        Assert.Equal([5432, 5432, 6432], c.Services.Skip(4).Select(s => s.Dest.PortOn(c.Members[0])));
        Assert.False(c.Members[0].OfflineQuery);
        // The quoted "false" is true for JMESPath, so Pigsty's offline service picks the primary.
        Assert.Equal(["pg-test-1 10.10.10.11:5432"], Servers(c, "offline"));
    }

    [Fact]
    public void Pg_default_service_dest_default_is_a_string_pigsty_routes_to_5432()
    {
        var config = Load(Hosts + "        10.10.10.11: { pg_seq: 1, pg_role: primary }\n      vars:\n        pg_cluster: pg-test\n" +
            "        pg_default_service_dest: default\n    bogus: 3\n");
        Assert.Equal(
        [
            "pigsty.yml:9:12: all.children.bogus: skipped: a group must be a mapping with hosts, vars or children (as Ansible skips it)",
            "pigsty.yml:8:34: all.children.pg-test.vars.pg_default_service_dest: pg_default_service_dest \"default\" is not postgres, pgbouncer " +
                "or a number; Pigsty sends such a service to port 5432, and so does PgGate",
        ], config.Warnings);
        Assert.Equal(new ServiceDestination(DestinationKind.Port, 5432), config.Clusters[0].Services[0].Dest);
    }
}
