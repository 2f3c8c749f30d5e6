using System.Net;

namespace PgGate.IntegrationTests.Pooling;

/// <summary>What the kernel says about the pooler's side of a client connection.</summary>
[Collection(PoolingCollection.Name)]
public sealed class ClientSocketTests(PoolingFixture fixture)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_client_connection_carries_tcp_keepalive_so_a_vanished_client_is_noticed()
    {
        await using var pooler = await fixture.StartPoolerAsync();
        await using var connection = await pooler.OpenAsync();
        var client = (IPEndPoint)Assert.Single(pooler.Pooler.GetClients(), c => c.Database == PoolingFixture.Database).RemoteEndPoint!;

        // The accepted socket inherits keepalive (idle 30 s) from the listening socket; ss shows its armed timer.
        var (_, sockets, _) = await PoolingFixture.RunToolAsync("ss",
            ["-H", "-t", "-n", "-o", "state", "established", $"( sport = :{pooler.Port} and dport = :{client.Port} )"], password: null);
        var line = Assert.Single(sockets.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"timer:\(keepalive,(2\d|30)sec,0\)", line);
    }
}
