namespace PgGate.IntegrationTests.Failover;

/// <summary>
/// Failover scenarios against real Patroni and etcd (<see cref="FailoverFixture"/>): one at a time and apart from every
/// other collection, since they kill nodes and time the outcome.
/// </summary>
[CollectionDefinition("failover", DisableParallelization = true)]
public sealed class FailoverCollection : ICollectionFixture<FailoverFixture>
{
}
