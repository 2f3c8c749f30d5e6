namespace PgGate.IntegrationTests.Fixtures;

/// <summary>Tests that use the shared PostgreSQL cluster run one at a time: they stop, kill and promote its members.</summary>
[CollectionDefinition("cluster")]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
}
