using System.Net.Sockets;
using PgGate.IntegrationTests.Fixtures;
using PgGate.Sandbox;

namespace PgGate.IntegrationTests.Services;

/// <summary>Misbehaving clients and members never disturb anyone else.</summary>
[Collection("cluster")]
public sealed class BadClientTests(ClusterFixture fixture) : GateTest(fixture)
{
    // A fourth member that does not exist: nothing listens on 127.0.0.19.
    protected override string Configuration() =>
        GateUnderTest.Yaml(Cluster, extraMember: "      - { name: pg-test-9, host: 127.0.0.19, role: replica }");

    [Fact]
    public async Task Garbage_bytes_and_half_open_connections_do_not_disturb_other_clients()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var working = await GateUnderTest.OpenAsync(Host(0), 5433);

        var idle = new List<Socket>();
        try
        {
            for (var i = 0; i < 20; i++)
            {
                // Half-open: connected, never says anything.
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await s.ConnectAsync(Host(0), 5433, cancel);
                idle.Add(s);
            }
            for (var i = 0; i < 20; i++)
            {
                using var g = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await g.ConnectAsync(Host(0), 5433, cancel);
                var junk = new byte[1000];
                Random.Shared.NextBytes(junk);
                await g.SendAsync(junk, SocketFlags.None, cancel);
                // PostgreSQL rejects the garbage; the relay passes its answer back and closes.
                var buffer = new byte[4096];
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                cts.CancelAfter(TimeSpan.FromSeconds(10));
                while (await g.ReceiveAsync(buffer, SocketFlags.None, cts.Token) > 0)
                {
                }
            }

            Assert.Equal((Host(0), false), await GateUnderTest.WhoAsync(working));
            Assert.Equal((Host(0), false), await GateUnderTest.WhoAsync(Host(0), 5433));
            Assert.Equal((Host(0), false), await GateUnderTest.WhoAsync(Host(0), 5436, LocalClusterUser.Dba));
        }
        finally
        {
            foreach (var s in idle)
                s.Dispose();
        }
    }

    [Fact]
    public async Task An_unreachable_member_is_marked_down_and_never_picked()
    {
        var view = Gate.Monitor.Current;
        var ghost = view.FindMember("pg-test-9")!;
        Assert.False(ghost.Facts.Reachable);
        Assert.NotNull(ghost.Facts.Error);
        Assert.All(ghost.Checks, c => Assert.False(c.IsUp));

        var replica = Gate.Host.FindListener(Cluster.Members[0].Name, Cluster.Name, "replica")!;
        Assert.Contains(replica.Router.Servers.Servers, s => s.Name == "pg-test-9" && !s.IsUp);
        for (var i = 0; i < 9; i++)
        {
            var (address, inRecovery) = await GateUnderTest.WhoAsync(Host(0), 5434);
            Assert.True(inRecovery);
            Assert.NotEqual("127.0.0.19", address);
        }
        Assert.Equal(0, replica.Stats.ConnectErrors);
    }
}
