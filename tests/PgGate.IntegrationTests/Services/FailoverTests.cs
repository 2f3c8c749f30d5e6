using System.Diagnostics;
using Npgsql;
using PgGate.Cluster;
using PgGate.IntegrationTests.Fixtures;
using PgGate.Sandbox;

namespace PgGate.IntegrationTests.Services;

/// <summary>Services follow the live topology: fallbacks, failover, and the sessions of members that leave.</summary>
[Collection("cluster")]
public sealed class FailoverTests(ClusterFixture fixture) : GateTest(fixture)
{
    private static readonly TimeSpan FastPlanBound = TimeSpan.FromSeconds(15);
    private static readonly CheckSpec Primary = new(CheckPath.Parse("/primary"), 3, 3);
    private static readonly CheckSpec ReadOnly = new(CheckPath.Parse("/read-only"), 3, 3);

    [Fact]
    public async Task Replica_service_falls_back_to_the_primary_when_the_replicas_stop_and_returns_when_they_are_back()
    {
        await Cluster.Members[1].StopAsync(StopMode.Fast, TestContext.Current.CancellationToken);
        await Cluster.Members[2].StopAsync(StopMode.Fast, TestContext.Current.CancellationToken);
        await Gate.Monitor.WaitForAsync(v => !v.IsUp(Cluster.Members[1].Name, ReadOnly) && !v.IsUp(Cluster.Members[2].Name, ReadOnly),
            FastPlanBound, TestContext.Current.CancellationToken);

        Assert.Equal((Host(0), false), await GateUnderTest.WhoAsync(Host(1), 5434));
        var replica = Gate.Host.FindListener(Cluster.Members[1].Name, Cluster.Name, "replica")!;
        Assert.True(replica.Router.Servers.UsingBackups);

        await Cluster.Members[1].StartAsync(TestContext.Current.CancellationToken);
        await Cluster.Members[2].StartAsync(TestContext.Current.CancellationToken);
        await Gate.Monitor.WaitForAsync(v => v.IsUp(Cluster.Members[1].Name, ReadOnly) && v.IsUp(Cluster.Members[2].Name, ReadOnly),
            FastPlanBound, TestContext.Current.CancellationToken);
        var (address, inRecovery) = await GateUnderTest.WhoAsync(Host(1), 5434);
        Assert.True(inRecovery);
        Assert.NotEqual(Host(0), address);
    }

    [Fact]
    public async Task Failover_moves_the_primary_service_and_closes_sessions_to_the_old_primary()
    {
        await using var before = await GateUnderTest.OpenAsync(Host(1), 5433);
        Assert.Equal((Host(0), false), await GateUnderTest.WhoAsync(before));
        await Cluster.Members[1].WaitUntilCaughtUpAsync(TestContext.Current.CancellationToken);

        await Cluster.Members[0].StopAsync(StopMode.Immediate, TestContext.Current.CancellationToken);
        var promoted = Stopwatch.StartNew();
        await Cluster.Members[1].PromoteAsync(TestContext.Current.CancellationToken);

        // The session through the old primary is gone: the next statement fails instead of hanging.
        await Assert.ThrowsAnyAsync<Exception>(() => GateUnderTest.WhoAsync(before));

        await Gate.Monitor.WaitForAsync(v => v.IsUp(Cluster.Members[1].Name, Primary), FastPlanBound, TestContext.Current.CancellationToken);
        TestContext.Current.SendDiagnosticMessage($"primary service moved {promoted.ElapsedMilliseconds} ms after promote");
        for (var node = 0; node < 3; node++)
        {
            if (node == 0)
                continue;
            Assert.Equal((Host(1), false), await GateUnderTest.WhoAsync(Host(node), 5433));
            Assert.Equal((Host(1), false), await GateUnderTest.WhoAsync(Host(node), 5436, LocalClusterUser.Dba));
        }
        // The promoted member is the primary now, so the replica service stops reading from it while a replica is up.
        for (var i = 0; i < 6; i++)
            Assert.Equal((Host(2), true), await GateUnderTest.WhoAsync(Host(2), 5434));
    }

    [Fact]
    public async Task A_session_through_a_member_that_is_marked_down_is_closed_at_once()
    {
        await using var session = await GateUnderTest.OpenAsync(Host(0), 5438, LocalClusterUser.Stats);
        Assert.Equal((Host(2), true), await GateUnderTest.WhoAsync(session));
        var replicaCheck = new CheckSpec(CheckPath.Parse("/replica"), 3, 3);

        // The offline replica is promoted: /replica fails on it, so the offline service drops it (and its sessions).
        await Cluster.Members[2].PromoteAsync(TestContext.Current.CancellationToken);
        await Gate.Monitor.WaitForAsync(v => !v.IsUp(Cluster.Members[2].Name, replicaCheck), FastPlanBound, TestContext.Current.CancellationToken);
        var listener = Gate.Host.FindListener(Cluster.Members[0].Name, Cluster.Name, "offline")!;
        await PgClient.WaitUntilAsync(() => Task.FromResult(listener.Stats.ShutdownSessions >= 1), TimeSpan.FromSeconds(5), "the session to be shut down");
        await Assert.ThrowsAnyAsync<Exception>(() => GateUnderTest.WhoAsync(session));

        // The offline service falls back to the other replica (its backup).
        Assert.Equal((Host(1), true), await GateUnderTest.WhoAsync(Host(0), 5438, LocalClusterUser.Stats));
    }

    [Fact]
    public async Task Without_any_server_a_client_gets_a_clear_error_after_the_queue_timeout()
    {
        await Cluster.Members[0].StopAsync(StopMode.Fast, TestContext.Current.CancellationToken);
        await Gate.Monitor.WaitForAsync(v => !v.IsUp(Cluster.Members[0].Name, Primary), FastPlanBound, TestContext.Current.CancellationToken);

        var error = await Assert.ThrowsAsync<PostgresException>(() => GateUnderTest.WhoAsync(Host(1), 5433));
        Assert.Equal("57P03", error.SqlState);
        Assert.Contains("no server up", error.MessageText);
        Assert.Contains("pg-test-primary", error.MessageText);
    }
}
