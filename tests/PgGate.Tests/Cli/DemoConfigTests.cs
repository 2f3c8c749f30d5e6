using PgGate.Cli;
using PgGate.Config;

namespace PgGate.Tests.Cli;

/// <summary>What <c>pggate demo</c> serves: pooled primary and replica services, direct default and offline, a pooler on 6432.</summary>
public class DemoConfigTests
{
    private static readonly ClusterConfig Cluster =
        ConfigLoader.LoadNativeFromString(DemoCommand.EmbeddedConfig(), "demo.yml").Clusters[0];

    [Fact]
    public void Primary_and_replica_pool_while_default_and_offline_stay_direct()
    {
        Assert.Equal(
            [("primary", DestinationKind.Pool), ("replica", DestinationKind.Pool), ("default", DestinationKind.Postgres), ("offline", DestinationKind.Postgres)],
            Cluster.Services.Select(s => (s.Name, s.Dest.Kind)));
        Assert.True(Cluster.Pooler is { Listen: true });
        Assert.All(Cluster.Members, m => Assert.Equal(6432, m.PoolerPort));
    }

    [Fact]
    public void The_url_table_shows_the_pooled_services_and_each_nodes_pooler()
    {
        var urls = DemoCommand.DemoUrls(Cluster);
        Assert.Contains("  primary  /primary    pooled  postgres://test:test@127.0.0.11:5433/test", urls, StringComparison.Ordinal);
        Assert.Contains("  default  /primary    direct  postgres://dbuser_dba:DBUser.DBA@127.0.0.11:5436/test", urls, StringComparison.Ordinal);
        Assert.Contains("  pooler   own member  pooled  postgres://test:test@127.0.0.11:6432/test  postgres://test:test@127.0.0.12:6432/test", urls, StringComparison.Ordinal);
    }
}
