using PgGate.IntegrationTests.Fixtures;
using PgGate.Sandbox;

namespace PgGate.IntegrationTests.Services;

/// <summary>
/// A test class that runs PgGate against the shared cluster: the cluster is brought back to its initial shape
/// (member 1 primary, 2 and 3 streaming) and a fresh PgGate is started before each test, and stopped after it.
/// </summary>
public abstract class GateTest(ClusterFixture fixture) : IAsyncLifetime
{
    private GateUnderTest? _gate;

    protected ClusterFixture Fixture => fixture;
    protected GateUnderTest Gate => _gate ?? throw new InvalidOperationException("PgGate has not started");
    protected LocalCluster Cluster => fixture.Cluster;
    protected string Host(int member) => Cluster.Members[member].Host;

    /// <summary>The configuration to run; Pigsty's default services over the cluster unless a test class says otherwise.</summary>
    protected virtual string Configuration() => GateUnderTest.Yaml(Cluster);

    public async ValueTask InitializeAsync()
    {
        await fixture.ResetAsync(TestContext.Current.CancellationToken);
        _gate = await GateUnderTest.StartAsync(Cluster, Configuration());
    }

    public virtual async ValueTask DisposeAsync()
    {
        if (_gate is not null)
            await _gate.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
