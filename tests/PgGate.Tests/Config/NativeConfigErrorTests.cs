using PgGate.Config;

namespace PgGate.Tests.Config;

/// <summary>Every kind of mistake in a pggate.yml names file:line:column, the key path, what was found and what is expected.</summary>
public class NativeConfigErrorTests
{
    private const string TwoMembers = """
        clusters:
          pg-test:
            members:
              - { name: pg-test-1, host: 10.10.10.11, role: primary }
              - { name: pg-test-2, host: 10.10.10.12, role: replica }

        """;

    private static string Error(string yaml)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.LoadNativeFromString(yaml, "pggate.yml"));
        return e.Message;
    }

    private static string WithServices(string services) => TwoMembers + "    services:\n" + services;

    [Fact]
    public void A_misspelt_key_is_an_error_that_suggests_and_lists_the_known_keys()
    {
        var message = Error("""
            clusters:
              pg-test:
                members:
                  - { name: pg-test-1, hots: 10.10.10.11, role: primary }
            """);
        Assert.Equal("pggate.yml:4:28: clusters.pg-test.members[0].hots: unknown key 'hots'; did you mean 'host'? known keys here: " +
            "name, host, role, seq, offline_query, weight, pg_port, pooler_port, patroni_port, labels", message);
    }

    [Fact]
    public void An_unknown_top_level_section_is_an_error()
    {
        Assert.Equal("pggate.yml:6:1: poolr: unknown key 'poolr'; did you mean 'pooler'? known keys here: clusters, pooler, admin",
            Error(TwoMembers + "poolr: { port: 6432 }\n"));
    }

    [Theory]
    [InlineData("      - { name: x, port: 54x4 }\n", "pggate.yml:7:26: clusters.pg-test.services[0].port: expected a port number 1-65535, found \"54x4\"")]
    [InlineData("      - { name: x, port: 70000 }\n", "pggate.yml:7:26: clusters.pg-test.services[0].port: expected a port number 1-65535, found \"70000\"")]
    [InlineData("      - { port: 6000 }\n", "pggate.yml:7:9: clusters.pg-test.services[0].name: missing; expected the service name, e.g. replica")]
    [InlineData("      - { name: x, port: 6000, dest: pgbouncr }\n",
        "pggate.yml:7:38: clusters.pg-test.services[0].dest: expected default, postgres, pgbouncer, pool or a port number 1-65535, found \"pgbouncr\"")]
    [InlineData("      - { name: x, port: 6000, check: primary }\n",
        "pggate.yml:7:39: clusters.pg-test.services[0].check: expected a Patroni health-check path starting with '/', e.g. /primary, /read-only, /replica?lag=1MB, found \"primary\"")]
    [InlineData("      - { name: x, port: 6000, balance: source }\n",
        "pggate.yml:7:41: clusters.pg-test.services[0].balance: expected a balance algorithm PgGate supports: roundrobin, leastconn or random, found \"source\"")]
    [InlineData("      - { name: x, port: 6000, options: \"inter 2s check-ssl\" }\n",
        "pggate.yml:7:41: clusters.pg-test.services[0].options: unknown server option 'check-ssl'; supported keywords: inter, fastinter, downinter, rise, fall, on-marked-down, slowstart, maxconn, maxqueue, weight, check")]
    [InlineData("      - { name: x, port: 6000, selector: \"[0]\" }\n",
        "pggate.yml:7:42: clusters.pg-test.services[0].selector: selector \"[0]\" yields an object {\"name\":\"pg-test-1\"}, not a list of members; a selector must yield members, e.g. \"[? pg_role == `replica`]\"")]
    [InlineData("      - pigsty-default\n",
        "pggate.yml:7:9: clusters.pg-test.services[0]: expected pigsty-defaults or a service mapping such as { name: standby, port: 5435 }, found \"pigsty-default\"")]
    public void Service_mistakes(string services, string message)
    {
        Assert.Equal(message, Error(WithServices(services)));
    }

    [Fact]
    public void A_selector_syntax_error_names_the_selector()
    {
        var message = Error(WithServices("      - { name: x, port: 6000, selector: \"[? pg_role == \" }\n"));
        Assert.StartsWith("pggate.yml:7:42: clusters.pg-test.services[0].selector: invalid selector \"[? pg_role == \": ", message);
    }

    [Fact]
    public void Two_services_with_one_name()
    {
        Assert.Equal("pggate.yml:8:17: clusters.pg-test.services[1].name: service replica is defined twice in cluster pg-test " +
            "(first at pggate.yml:7:9); service names must be unique in a cluster",
            Error(WithServices("      - pigsty-defaults\n      - { name: replica, port: 6000 }\n")));
    }

    [Fact]
    public void Two_services_on_one_port()
    {
        Assert.Equal("pggate.yml:8:32: clusters.pg-test.services[1].port: *:5434 on node 10.10.10.11 would be the port of service " +
            "pg-test-standby, but it is already the port of service pg-test-replica (pggate.yml:7:9); give one of them another port",
            Error(WithServices("      - pigsty-defaults\n      - { name: standby, port: 5434 }\n")));
    }

    [Fact]
    public void A_service_on_a_member_port_or_the_admin_port()
    {
        Assert.Equal("pggate.yml:7:26: clusters.pg-test.services[0].port: *:5432 on node 10.10.10.11 would be the port of service pg-test-x, " +
            "but it is already the PostgreSQL port of pg-test-1 (pggate.yml:4:34); give one of them another port",
            Error(WithServices("      - { name: x, port: 5432 }\n")));
        Assert.Equal("pggate.yml:7:26: clusters.pg-test.services[0].port: *:9101 on node 10.10.10.11 would be the port of service pg-test-x, " +
            "but it is already the admin listener *:9101 (the default); give one of them another port",
            Error(WithServices("      - { name: x, port: 9101 }\n")));
    }

    [Fact]
    public void Clusters_sharing_a_node_may_not_share_ports_but_others_may()
    {
        const string Other = "  pg-other:\n    members:\n      - { name: pg-other-1, host: 10.10.10.11, role: primary, pg_port: 5500, pooler_port: 6500, patroni_port: 8500 }\n";
        Assert.Equal("pggate.yml:6:3: clusters.pg-other.services(pigsty-defaults:primary).port: *:5433 on node 10.10.10.11 would be the port of " +
            "service pg-other-primary, but it is already the port of service pg-test-primary (pggate.yml:2:3); give one of them another port",
            Error(TwoMembers + Other));

        var separate = ConfigLoader.LoadNativeFromString(TwoMembers + Other.Replace("10.10.10.11", "10.10.10.21", StringComparison.Ordinal), "pggate.yml");
        Assert.Equal(2, separate.Clusters.Count);
    }

    [Fact]
    public void Member_mistakes()
    {
        Assert.Equal("pggate.yml:4:70: clusters.pg-test.members[0].weight: expected a weight 0-256, found \"300\"",
            Error("clusters:\n  pg-test:\n    members:\n      - { name: pg-test-1, host: 10.10.10.11, role: primary, weight: 300 }\n"));
        Assert.Equal("pggate.yml:4:53: clusters.pg-test.members[0].role: expected one of primary, replica, standby, offline, delayed, found \"primry\"",
            Error("clusters:\n  pg-test:\n    members:\n      - { name: pg-test-1, host: 10.10.10.11, role: primry }\n"));
        Assert.Equal("pggate.yml:5:17: clusters.pg-test.members[1].name: member name pg-test-1 is already used in cluster pg-test " +
            "(at pggate.yml:4:17); member names must be unique",
            Error(TwoMembers.Replace("name: pg-test-2", "name: pg-test-1", StringComparison.Ordinal)));
        Assert.Equal("pggate.yml:5:34: clusters.pg-test.members[1].host: 10.10.10.11:5432 is both the PostgreSQL port of pg-test-2 and the " +
            "PostgreSQL port of pg-test-1 (pggate.yml:4:34); each member needs its own address or distinct ports",
            Error(TwoMembers.Replace("10.10.10.12", "10.10.10.11", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_label_may_not_hide_a_member_key()
    {
        Assert.StartsWith("pggate.yml:4:72: clusters.pg-test.members[0].labels.role: label 'role' would hide the member's own 'role' " +
            "in selector documents; rename the label",
            Error("clusters:\n  pg-test:\n    members:\n      - { name: pg-test-1, host: 10.10.10.11, role: primary, labels: { role: x } }\n"));
    }

    [Fact]
    public void Exactly_one_primary()
    {
        Assert.Equal("pggate.yml:5:53: clusters.pg-test.members[1].role: cluster pg-test has more than one primary: pg-test-1 " +
            "(pggate.yml:4:53) and pg-test-2; exactly one member must have role primary",
            Error(TwoMembers.Replace("role: replica", "role: primary", StringComparison.Ordinal)));
        Assert.Equal("pggate.yml:2:3: clusters.pg-test: cluster pg-test has no primary; exactly one member must have role primary " +
            "(members: pg-test-1 replica)",
            Error("clusters:\n  pg-test:\n    members:\n      - { name: pg-test-1, host: 10.10.10.11, role: replica }\n"));
    }

    [Fact]
    public void Cluster_name_follows_pigsty()
    {
        Assert.Equal("pggate.yml:2:3: clusters.pg_test: invalid cluster name 'pg_test'; use letters, digits and '-' (Pigsty's rule), and not 'root'",
            Error("clusters:\n  pg_test:\n    members:\n      - { name: pg-test-1, host: 10.10.10.11, role: primary }\n"));
        Assert.StartsWith("pggate.yml:2:3: clusters.root: invalid cluster name 'root'",
            Error("clusters:\n  root:\n    members:\n      - { name: r-1, host: 10.10.10.11, role: primary }\n"));
    }

    [Fact]
    public void Health_mistakes()
    {
        Assert.Equal("pggate.yml:6:20: clusters.pg-test.health.rto: expected an RTO plan: fast, norm, safe or wide, found \"fastest\"",
            Error(TwoMembers + "    health: { rto: fastest }\n"));
        Assert.Equal("pggate.yml:6:30: clusters.pg-test.health.check_timeout: expected a duration such as 500ms, 2s, 1m or 1h " +
            "(a bare number means milliseconds), found \"3 seconds\"",
            Error(TwoMembers + "    health: { check_timeout: 3 seconds }\n"));
        Assert.Equal("pggate.yml:6:31: clusters.pg-test.health.patroni.ssl: expected true or false, found \"yes\"",
            Error(TwoMembers + "    health: { patroni: { ssl: yes } }\n"));
        Assert.Equal("pggate.yml:6:23: clusters.pg-test.health.source: health source dcs needs etcd endpoints; add dcs: " +
            "{ endpoints: [ \"http://10.10.10.10:2379\" ] } to this cluster's health",
            Error(TwoMembers + "    health: { source: dcs }\n"));
        Assert.Equal("pggate.yml:7:27: clusters.pg-test.health.dcs.endpoints[0]: expected an etcd URL such as http://10.10.10.10:2379 " +
            "or https://10.10.10.10:2379, found \"10.10.10.10:2379\"",
            Error(TwoMembers + "    health:\n      dcs: { endpoints: [ \"10.10.10.10:2379\" ] }\n"));
    }

    [Fact]
    public void A_secret_given_two_ways_is_an_error()
    {
        Assert.Equal("pggate.yml:7:42: clusters.pg-test.health.sql.password_file: both password and password_file are set; " +
            "give the secret exactly one way: password, password_env or password_file",
            Error(TwoMembers + "    health:\n      sql: { password: a, password_file: /x }\n"));
    }

    [Fact]
    public void Admin_listen_needs_an_address_and_port()
    {
        Assert.Equal("pggate.yml:6:18: admin.listen: expected an address such as \"*:9101\" or \"127.0.0.1:9101\", found \"9101\"",
            Error(TwoMembers + "admin: { listen: 9101 }\n"));
    }

    [Fact]
    public void Admin_credentials_need_both_a_username_and_a_password()
    {
        Assert.Equal("pggate.yml:6:8: admin: a password for the admin API is set but no username; add username (HTTP Basic needs both)",
            Error(TwoMembers + "admin: { password_env: PGGATE_ADMIN_PASSWORD }\n"));
        Assert.Equal("pggate.yml:6:20: admin.username: username is set but no password; add password, password_env or password_file",
            Error(TwoMembers + "admin: { username: pggate }\n"));
    }

    [Fact]
    public void Yaml_syntax_errors_point_at_the_line()
    {
        Assert.Equal("pggate.yml:1:1: invalid YAML: While scanning a mapping, found invalid tab as indentation.",
            Error("clusters:\n\tpg-test: {}\n"));
        Assert.Equal("pggate.yml:3:14: invalid YAML after this point: look for an unclosed '[', '{' or quote",
            Error("clusters:\n  pg-test:\n    members: [ { name: pg-test-1, host: 10.10.10.11, role: primary }\n    vip: 1.2.3.4\n"));
        Assert.Equal("pggate.yml:4:5: invalid YAML: the key 'members' appears twice in the same mapping; keep one",
            Error("clusters:\n  pg-test:\n    members: []\n    members: []\n"));
    }

    [Fact]
    public void An_empty_file_or_one_without_clusters()
    {
        Assert.Equal("pggate.yml: the file is empty; expected a mapping with 'clusters:'", Error("# nothing yet\n"));
        Assert.Equal("pggate.yml:1:1: clusters: missing; expected a mapping of cluster name to cluster, e.g. clusters: { pg-test: { members: [...] } }",
            Error("admin: { listen: \"*:9101\" }\n"));
    }

    [Fact]
    public void A_missing_file_is_a_config_error()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.LoadNative("/nonexistent/pggate.yml"));
        Assert.StartsWith("/nonexistent/pggate.yml: cannot read the configuration file: ", e.Message);
    }
}
