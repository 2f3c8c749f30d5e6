using PgGate.Config;
using PgGate.Services.Selection;
using static PgGate.Tests.Selection.MemberDocs;

namespace PgGate.Tests.Selection;

/// <summary>
/// Pigsty's four default services (reference §3.2) over the topologies Pigsty documents; each expected list is the server
/// list of Pigsty's rendered HAProxy config (§4.3), "name" for a normal server and "name backup" for a backup.
/// </summary>
public class ServerPlanTests
{
    private static readonly ServiceConfig Primary = Service("primary", 5433, "[]");
    private static readonly ServiceConfig Replica = Service("replica", 5434, "[]", "[? pg_role == `primary` || pg_role == `offline` ]");
    private static readonly ServiceConfig Default = Service("default", 5436, "[]");
    private static readonly ServiceConfig Offline = Service("offline", 5438, "[? pg_role == `offline` || pg_offline_query ]",
        "[? pg_role == `replica` && !pg_offline_query]");
    private static readonly ServiceConfig Standby = Service("standby", 5435, "[]", "[? pg_role == `primary`]");

    private static ServiceConfig Service(string name, int port, string selector, string? backup = null) =>
        new() { Name = name, Port = port, Selector = selector, Backup = backup, Location = new SourceLocation("pigsty-defaults", 1, 1) };

    private static string[] Plan(ServiceConfig service, IReadOnlyList<IReadOnlyDictionary<string, object?>> members) =>
        ServerPlan.Build(service, members).Select(s => s.IsBackup ? s.MemberName + " backup" : s.MemberName).ToArray();

    [Fact]
    public void One_primary_and_two_replicas()
    {
        var members = List(Member("pg-test-1", 1, "primary"), Member("pg-test-2", 2, "replica"), Member("pg-test-3", 3, "replica"));
        Assert.Equal(["pg-test-1", "pg-test-2", "pg-test-3"], Plan(Primary, members));
        Assert.Equal(["pg-test-1 backup", "pg-test-2", "pg-test-3"], Plan(Replica, members));
        Assert.Equal(["pg-test-1", "pg-test-2", "pg-test-3"], Plan(Default, members));
        // No offline instance: the plain replicas serve offline traffic as backups.
        Assert.Equal(["pg-test-2 backup", "pg-test-3 backup"], Plan(Offline, members));
    }

    [Fact]
    public void Offline_instance_by_pg_role_offline()
    {
        var members = List(Member("pg-test-1", 1, "primary"), Member("pg-test-2", 2, "replica"), Member("pg-test-3", 3, "offline"));
        Assert.Equal(["pg-test-1", "pg-test-2", "pg-test-3"], Plan(Primary, members));
        Assert.Equal(["pg-test-1 backup", "pg-test-2", "pg-test-3 backup"], Plan(Replica, members));
        Assert.Equal(["pg-test-1", "pg-test-2", "pg-test-3"], Plan(Default, members));
        Assert.Equal(["pg-test-3", "pg-test-2 backup"], Plan(Offline, members));
    }

    [Fact]
    public void Offline_queries_on_a_replica_by_pg_offline_query()
    {
        var members = List(Member("pg-test-1", 1, "primary"), Member("pg-test-2", 2, "replica"), Member("pg-test-3", 3, "replica", offlineQuery: true));
        Assert.Equal(["pg-test-1", "pg-test-2", "pg-test-3"], Plan(Primary, members));
        // pg_offline_query does not make a replica a backup of the replica service; only pg_role offline does.
        Assert.Equal(["pg-test-1 backup", "pg-test-2", "pg-test-3"], Plan(Replica, members));
        Assert.Equal(["pg-test-3", "pg-test-2 backup"], Plan(Offline, members));
    }

    [Fact]
    public void Single_node_cluster()
    {
        var members = List(Member("pg-meta-1", 1, "primary"));
        Assert.Equal(["pg-meta-1"], Plan(Primary, members));
        Assert.Equal(["pg-meta-1 backup"], Plan(Replica, members));
        Assert.Equal(["pg-meta-1"], Plan(Default, members));
        Assert.Empty(Plan(Offline, members));
    }

    [Fact]
    public void Pigsty_io_examples_keep_the_member_order_1_3_2()
    {
        // pigsty.io's rendered examples list pg-test-1, pg-test-3, pg-test-2: the order of the members (hostvars order).
        var members = List(Member("pg-test-1", 1, "primary"), Member("pg-test-3", 3, "replica", offlineQuery: true), Member("pg-test-2", 2, "replica"));
        Assert.Equal(["pg-test-1", "pg-test-3", "pg-test-2"], Plan(Primary, members));
        Assert.Equal(["pg-test-1 backup", "pg-test-3", "pg-test-2"], Plan(Replica, members));
        Assert.Equal(["pg-test-1 backup", "pg-test-3", "pg-test-2"], Plan(Standby, members));
        Assert.Equal(["pg-test-3", "pg-test-2 backup"], Plan(Offline, members));
    }

    [Fact]
    public void Backups_not_picked_by_the_selector_follow_in_backup_order()
    {
        var members = List(Member("pg-test-1", 1, "primary"), Member("pg-test-2", 2, "replica"), Member("pg-test-3", 3, "offline"),
            Member("pg-test-4", 4, "replica"));
        var service = Service("etl", 6000, "[? pg_seq == `4`]", "reverse(@)");
        Assert.Equal(["pg-test-4 backup", "pg-test-3 backup", "pg-test-2 backup", "pg-test-1 backup"], Plan(service, members));
    }

    [Fact]
    public void A_member_yielded_twice_is_planned_once()
    {
        var members = List(Member("pg-test-1", 1, "primary"), Member("pg-test-2", 2, "replica"));
        var service = Service("twice", 6001, "[@, @][]");
        Assert.Equal(["pg-test-1", "pg-test-2"], Plan(service, members));
    }

    [Fact]
    public void The_plan_follows_member_facts_when_they_change()
    {
        // The runtime re-plans with live facts: after a failover pg-test-2 reports pg_role primary.
        var before = List(Member("pg-test-1", 1, "primary"), Member("pg-test-2", 2, "replica"), Member("pg-test-3", 3, "replica"));
        var after = List(Member("pg-test-1", 1, "replica"), Member("pg-test-2", 2, "primary"), Member("pg-test-3", 3, "replica"));
        Assert.Equal(["pg-test-1 backup", "pg-test-2", "pg-test-3"], Plan(Replica, before));
        Assert.Equal(["pg-test-1", "pg-test-2 backup", "pg-test-3"], Plan(Replica, after));
    }
}
