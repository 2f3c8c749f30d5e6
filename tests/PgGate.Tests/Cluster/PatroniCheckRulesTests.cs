using PgGate.Cluster;

namespace PgGate.Tests.Cluster;

/// <summary>The matrix of reference section 5.3, evaluated on facts (the sql source's view of Patroni's rules).</summary>
public class PatroniCheckRulesTests
{
    private static readonly MemberFacts Primary = new() { Reachable = true, Running = true, Role = MemberRole.Primary, IsLeader = true, LagBytes = 0 };
    private static readonly MemberFacts Replica = new() { Reachable = true, Running = true, Role = MemberRole.Replica, LagBytes = 100, ReplicationState = "streaming" };
    private static readonly MemberFacts NoLoadBalance = Replica with { Tags = new Dictionary<string, string> { ["noloadbalance"] = "true" } };
    private static readonly MemberFacts SyncStandby = Replica with { IsSyncStandby = true };
    private static readonly MemberFacts StandbyLeader = new() { Reachable = true, Running = true, Role = MemberRole.StandbyLeader, IsLeader = true };
    private static readonly MemberFacts Stopped = new() { Reachable = true, Running = false, Role = MemberRole.Replica };

    public static TheoryData<string, string, bool> Matrix => new()
    {
        { "/", "primary", true }, { "/", "replica", false }, { "/primary", "standby_leader", false },
        { "/read-write", "primary", true }, { "/master", "primary", true },
        { "/leader", "primary", true }, { "/leader", "standby_leader", true }, { "/leader", "replica", false },
        { "/standby-leader", "standby_leader", true }, { "/standby-leader", "primary", false },
        { "/replica", "primary", false }, { "/replica", "replica", true }, { "/replica", "noloadbalance", false },
        { "/replica", "sync", true }, { "/replica", "standby_leader", false }, { "/replica", "stopped", false },
        { "/read-only", "primary", true }, { "/read-only", "replica", true }, { "/read-only", "noloadbalance", false },
        { "/read-only", "standby_leader", true }, { "/read-only", "stopped", false },
        { "/sync", "primary", false }, { "/sync", "replica", false }, { "/sync", "sync", true },
        { "/read-only-sync", "primary", true }, { "/read-only-sync", "replica", false }, { "/read-only-sync", "sync", true },
        { "/async", "primary", false }, { "/async", "replica", true }, { "/async", "sync", false },
        { "/health", "primary", true }, { "/health", "noloadbalance", true }, { "/health", "stopped", false },
        { "/no-such-endpoint", "primary", false },
    };

    [Theory]
    [MemberData(nameof(Matrix))]
    public void Endpoint_answers_as_patroni(string check, string member, bool passes)
    {
        var facts = member switch
        {
            "primary" => Primary,
            "replica" => Replica,
            "noloadbalance" => NoLoadBalance,
            "sync" => SyncStandby,
            "standby_leader" => StandbyLeader,
            _ => Stopped,
        };
        Assert.Equal(passes, PatroniCheckRules.Passes(CheckPath.Parse(check), facts));
    }

    [Theory]
    [InlineData("/replica?lag=100", true)]
    [InlineData("/replica?lag=99", false)]
    [InlineData("/replica?lag=1kB", true)]
    [InlineData("/async?lag=10", false)]
    [InlineData("/replica?replication_state=streaming", true)]
    [InlineData("/replica?replication_state=catchup", false)]
    public void Query_parameters_filter_replicas(string check, bool passes)
    {
        Assert.Equal(passes, PatroniCheckRules.Passes(CheckPath.Parse(check), Replica));
    }

    [Fact]
    public void Tag_filters_apply_to_replica_paths_but_not_to_the_primary_path()
    {
        var tagged = Replica with { Tags = new Dictionary<string, string> { ["zone"] = "a" } };
        Assert.True(PatroniCheckRules.Passes(CheckPath.Parse("/replica?tag_zone=a"), tagged));
        Assert.False(PatroniCheckRules.Passes(CheckPath.Parse("/replica?tag_zone=b"), tagged));
        Assert.False(PatroniCheckRules.Passes(CheckPath.Parse("/replica?tag_zone=a"), Replica));
        Assert.True(PatroniCheckRules.Passes(CheckPath.Parse("/primary?tag_zone=b"), Primary));
    }

    [Theory]
    [InlineData("1024", 1024L)]
    [InlineData("16kB", 16384L)]
    [InlineData("1MB", 1048576L)]
    [InlineData("2GB", 2147483648L)]
    [InlineData("1mb", null)]
    [InlineData("x", null)]
    public void Lag_uses_patronis_units(string text, long? bytes) => Assert.Equal(bytes, CheckPath.ParseLag(text));
}
