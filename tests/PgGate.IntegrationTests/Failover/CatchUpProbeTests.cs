using PgGate.Config;
using PgGate.Failover;
using PgGate.IntegrationTests.Pooling;
using PgGate.Sandbox;

namespace PgGate.IntegrationTests.Failover;

/// <summary>
/// The switchover's catch-up step (promote-command path) on a real primary and streaming replica: a replica whose replay
/// is behind the primary's WAL position is not declared caught up; once it replays, it is.
/// </summary>
[Collection(PoolingCollection.Name)]
public sealed class CatchUpProbeTests(PoolingFixture fixture)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_replica_behind_the_primary_is_not_promoted_until_it_has_replayed_everything()
    {
        var cluster = new ClusterConfig
        {
            Name = "pooler-test",
            Members =
            [
                new MemberConfig { Name = "primary", Host = fixture.Primary.Host, PgPort = fixture.Primary.Port },
                new MemberConfig { Name = "replica", Host = fixture.Replica.Host, PgPort = fixture.Replica.Port },
            ],
            Services = [],
            Health = new HealthConfig
            {
                Source = HealthSource.Sql,
                Sql = new SqlCheckConfig { User = LocalClusterUser.Monitor.Name, Password = new SecretSource { Value = LocalClusterUser.Monitor.Password } },
            },
        };
        await fixture.Replica.RunSqlAsync("select pg_wal_replay_pause()", Cancel);
        try
        {
            await fixture.Primary.RunSqlAsync("create table if not exists catch_up_probe(id int); insert into catch_up_probe values (1)", PoolingFixture.Database, Cancel);

            var (behind, _) = await CatchUpProbe.WaitAsync(cluster, cluster.Members[0], cluster.Members[1], TimeSpan.FromMilliseconds(500), Cancel);
            Assert.NotNull(behind);
            Assert.Contains("did not replay primary's WAL", behind, StringComparison.Ordinal);
            Assert.Contains("not promoting it", behind, StringComparison.Ordinal);
        }
        finally
        {
            await fixture.Replica.RunSqlAsync("select pg_wal_replay_resume()", Cancel);
        }

        var (error, detail) = await CatchUpProbe.WaitAsync(cluster, cluster.Members[0], cluster.Members[1], TimeSpan.FromSeconds(30), Cancel);
        Assert.Null(error);
        Assert.StartsWith("replica replayed primary's WAL up to ", detail, StringComparison.Ordinal);
    }
}
