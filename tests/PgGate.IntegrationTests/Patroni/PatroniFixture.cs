using System.Net;
using PgGate.IntegrationTests.Fixtures;
using PgGate.Sandbox;
using PgGate.Sandbox.Patroni;

namespace PgGate.IntegrationTests.Patroni;

/// <summary>
/// One real Patroni cluster (<c>pg-test</c>: etcd on 127.0.0.40:2379, Patroni on 127.0.0.41-43:8008, PostgreSQL on :5432,
/// Pigsty's settings and users, Pigsty's <c>fast</c> timers) shared by the <c>patroni</c> collection. Tests kill nodes and
/// switch leaders, so every test class calls <see cref="ResetAsync"/> first: it brings back "every member running, one
/// leader, the others streaming" (which member leads is whatever it is), rebuilding the cluster when that fails.
/// When Patroni, etcd or PostgreSQL is missing the cluster is not built and <see cref="RequireCluster"/> skips the test
/// with the reason (<c>.ci/run</c> installs them, so CI never skips). <c>PGGATE_PATRONI_TEST_HOSTS</c> (four
/// comma-separated loopback addresses: etcd, then the three members) moves the cluster elsewhere.
/// </summary>
public sealed class PatroniFixture : IAsyncLifetime
{
    public const string HostsVariable = "PGGATE_PATRONI_TEST_HOSTS";

    private PatroniCluster? _cluster;

    public PatroniClusterOptions Options { get; } = CreateOptions();

    /// <summary>Why the cluster could not be built here (missing packages), or null.</summary>
    public string? SkipReason { get; } = PatroniCluster.SkipReason();

    public PatroniCluster Cluster => _cluster ?? throw new InvalidOperationException("The Patroni fixture has no cluster (skipped or failed to start).");

    public async ValueTask InitializeAsync()
    {
        if (SkipReason is null)
            _cluster = await PatroniCluster.StartAsync(Options, TestContextLogger.Instance, TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
            await _cluster.DisposeAsync();
    }

    /// <summary>Skips the calling test (with the reason) when the cluster cannot run on this machine.</summary>
    public PatroniCluster RequireCluster()
    {
        Assert.SkipWhen(SkipReason is not null, "Patroni tests need Patroni, etcd and PostgreSQL: " + SkipReason);
        return Cluster;
    }

    /// <summary>Replaces the cluster with one built from other options (e.g. <c>SynchronousMode</c>); the next
    /// <see cref="ResetAsync"/> goes back to <see cref="Options"/>.</summary>
    public async Task<PatroniCluster> RebuildAsync(PatroniClusterOptions options, CancellationToken cancellationToken = default)
    {
        var cluster = RequireCluster();
        await cluster.DisposeAsync();
        _cluster = null;
        _cluster = await PatroniCluster.StartAsync(options, TestContextLogger.Instance, cancellationToken);
        return _cluster;
    }

    /// <summary>Every member's Patroni running, one leader, the others streaming from it; rebuilt when that cannot be had
    /// or when a test rebuilt it with other options.</summary>
    public async Task<PatroniCluster> ResetAsync(CancellationToken cancellationToken = default)
    {
        var cluster = RequireCluster();
        if (cluster.Options != Options)
            return await RebuildAsync(Options, cancellationToken);
        try
        {
            if (!cluster.Etcd.IsRunning)
                await cluster.Etcd.StartAgainAsync(cancellationToken);
            foreach (var member in cluster.Members)
            {
                if (!member.IsPatroniRunning)
                    await cluster.StartMemberAsync(member, cancellationToken);
            }
            await cluster.WaitUntilHealthyAsync(TimeSpan.FromSeconds(60), cancellationToken);
            return cluster;
        }
        catch (SandboxException e)
        {
            TestContext.Current.SendDiagnosticMessage($"Patroni fixture: rebuilding the cluster ({e.Message})");
        }

        await cluster.DisposeAsync();
        _cluster = null;
        _cluster = await PatroniCluster.StartAsync(Options, TestContextLogger.Instance, cancellationToken);
        return _cluster;
    }

    private static PatroniClusterOptions CreateOptions()
    {
        var hosts = Environment.GetEnvironmentVariable(HostsVariable);
        if (string.IsNullOrWhiteSpace(hosts))
            return new PatroniClusterOptions();
        var list = hosts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (list.Length != 4 || !list.All(h => IPAddress.TryParse(h, out _)))
            throw new InvalidOperationException($"{HostsVariable}='{hosts}' must be four comma-separated IPv4 loopback addresses (etcd, then three members).");
        return new PatroniClusterOptions { EtcdHost = list[0], Hosts = list[1..] };
    }
}
