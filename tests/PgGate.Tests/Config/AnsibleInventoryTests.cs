using PgGate.Config;

namespace PgGate.Tests.Config;

/// <summary>Variable precedence and host order as Ansible computes them (checked against ansible-inventory 2.14).</summary>
public class AnsibleInventoryTests
{
    private static GateConfig Load(string yaml) => ConfigLoader.LoadPigstyInventoryFromString(yaml, "pigsty.yml");

    [Fact]
    public void Host_vars_beat_child_group_vars_which_beat_parent_group_vars_which_beat_all_vars()
    {
        var config = Load("""
            all:
              vars: { level: all, only_all: a, pg_weight: 10 }
              children:
                pgsql:
                  vars: { level: pgsql, pg_weight: 20, zone: parent }
                  children:
                    pg-test:
                      vars: { pg_cluster: pg-test, level: pg-test, pg_weight: 30 }
                      hosts:
                        10.10.10.13: { pg_seq: 3, pg_role: replica }
                        10.10.10.11: { pg_seq: 1, pg_role: primary, level: host, pg_weight: 40 }
                        10.10.10.12: { pg_seq: 2, pg_role: replica }
                zgroup:
                  vars: { level: zgroup }
                  hosts:
                    10.10.10.12: {}
                agroup:
                  vars: { level: agroup, ansible_group_priority: 5 }
                  hosts:
                    10.10.10.13: { extra: yes }
            """);
        var members = config.Clusters[0].Members;
        // Members keep the order hosts first appear in (Ansible's hostvars order), not pg_seq order.
        Assert.Equal(["pg-test-3", "pg-test-1", "pg-test-2"], members.Select(m => m.Name));

        var m1 = members.Single(m => m.Name == "pg-test-1").Vars;
        Assert.Equal(("host", "a", "parent", 40L), (m1["level"], m1["only_all"], m1["zone"], m1["pg_weight"]));
        Assert.Equal(40, members.Single(m => m.Name == "pg-test-1").Weight);

        // Deeper groups win over shallower ones whatever their names or priorities.
        var m2 = members.Single(m => m.Name == "pg-test-2").Vars;
        Assert.Equal(("pg-test", 30L), (m2["level"], m2["pg_weight"]));
        var m3 = members.Single(m => m.Name == "pg-test-3").Vars;
        Assert.Equal("pg-test", m3["level"]);
        Assert.Equal(true, m3["extra"]); // YAML 1.1: yes is a boolean in an Ansible inventory
        Assert.False(m3.ContainsKey("ansible_group_priority"));
    }

    [Fact]
    public void Among_groups_of_one_depth_priority_then_name_decide()
    {
        var config = Load("""
            all:
              children:
                zgroup:
                  vars: { level: zgroup }
                  hosts: { 10.0.0.1: {}, 10.0.0.2: {} }
                agroup:
                  vars: { level: agroup, ansible_group_priority: 5 }
                  hosts: { 10.0.0.1: {} }
                bgroup:
                  vars: { level: bgroup }
                  hosts: { 10.0.0.2: {} }
                pg-x:
                  hosts: { 10.0.0.1: { pg_seq: 1, pg_role: primary }, 10.0.0.2: { pg_seq: 2, pg_role: replica } }
                  vars: { pg_cluster: pg-x }
            """);
        var members = config.Clusters[0].Members;
        Assert.Equal("agroup", members[0].Vars["level"]);
        Assert.Equal("zgroup", members[1].Vars["level"]);
    }

    [Fact]
    public void A_host_named_first_in_another_group_takes_that_place_in_member_order()
    {
        var config = Load("""
            all:
              children:
                etcd: { hosts: { 10.10.10.12: { etcd_seq: 1 } } }
                pg-test:
                  hosts:
                    10.10.10.11: { pg_seq: 1, pg_role: primary }
                    10.10.10.12: { pg_seq: 2, pg_role: replica }
                  vars: { pg_cluster: pg-test }
            """);
        var members = config.Clusters[0].Members;
        Assert.Equal(["pg-test-2", "pg-test-1"], members.Select(m => m.Name));
        Assert.Equal(1L, members[0].Vars["etcd_seq"]);
        Assert.Equal(["https://10.10.10.12:2379"], config.Clusters[0].Health.Dcs.Endpoints);
    }

    [Fact]
    public void Top_level_groups_and_merge_keys_are_understood()
    {
        var config = Load("""
            pg-test:
              hosts:
                10.10.10.11: &common { pg_seq: 1, pg_role: primary, pg_weight: 10 }
                10.10.10.12: { <<: *common, pg_seq: 2, pg_role: replica }
              vars: { pg_cluster: pg-test }
            """);
        var members = config.Clusters[0].Members;
        Assert.Equal([("pg-test-1", "primary", 10), ("pg-test-2", "replica", 10)], members.Select(m => (m.Name, m.Role, m.Weight)));
    }

    [Fact]
    public void Etcd_endpoints_come_from_the_etcd_group_and_its_children_sorted()
    {
        var config = Load("""
            all:
              children:
                etcd:
                  hosts: { 10.10.10.3: {}, 10.10.10.20: {} }
                  children: { etcd-extra: { hosts: { 10.10.10.1: {} } } }
                pg-test:
                  hosts: { 10.10.10.11: { pg_seq: 1, pg_role: primary } }
                  vars: { pg_cluster: pg-test, etcd_port: 12379, pggate_health_source: dcs, pg_namespace: /service, pg_etcd_password: s3cret }
            """);
        var dcs = config.Clusters[0].Health.Dcs;
        Assert.Equal(HealthSource.Dcs, config.Clusters[0].Health.Source);
        Assert.Equal(["https://10.10.10.1:12379", "https://10.10.10.20:12379", "https://10.10.10.3:12379"], dcs.Endpoints);
        Assert.Equal("/service/", dcs.Namespace);
        Assert.Equal("s3cret", dcs.Password.Value);
    }
}
