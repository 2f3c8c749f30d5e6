namespace PgGate.IntegrationTests.Patroni;

/// <summary>
/// Tests on the real Patroni cluster (etcd on 127.0.0.40, members on 127.0.0.41-43) run one at a time, and after every
/// parallel collection: they kill nodes and measure latencies, which a busy two-core machine would distort.
/// </summary>
[CollectionDefinition("patroni", DisableParallelization = true)]
public sealed class PatroniCollection : ICollectionFixture<PatroniFixture>
{
}

/// <summary>The etcd TLS and authentication tests: their own etcd on 127.0.0.40:2479, run alone.</summary>
[CollectionDefinition("etcd-tls", DisableParallelization = true)]
public sealed class EtcdTlsCollection
{
}
