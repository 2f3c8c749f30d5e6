using System.Net;
using PgGate.Sandbox;

namespace PgGate.IntegrationTests.Fixtures;

/// <summary>
/// One real three-member PostgreSQL cluster (<c>pg-test</c> on 127.0.0.11-13:5432 with Pigsty's users and database
/// <c>test</c>) shared by every test in the <c>cluster</c> collection, which run one at a time. Tests may stop, kill
/// and promote members, and run in any order, so every test class calls <see cref="ResetAsync"/> before it uses the
/// cluster (in <c>IAsyncLifetime.InitializeAsync</c>): about 0.3 s when the cluster is as built, a rebuild (about 2 s)
/// otherwise. Tables a test creates outlive it unless it drops them. <c>PGGATE_TEST_HOSTS</c> (three comma-separated
/// loopback addresses) moves the cluster elsewhere, e.g. when 127.0.0.11-13 are taken on a shared machine.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const string HostsVariable = "PGGATE_TEST_HOSTS";

    /// <summary>Extra clusters that tests build next to this one use the same hosts on this port.</summary>
    public const int SparePort = 15432;

    private LocalCluster? _cluster;

    public LocalClusterOptions Options { get; } = CreateOptions();

    public LocalCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster fixture has not started its cluster.");

    public LocalMember Primary => Cluster.Members[0];

    /// <summary>Options for a small extra cluster on the same hosts that does not collide with this one.</summary>
    public LocalClusterOptions SpareOptions(int members) => Options with
    {
        Name = "pg-spare",
        Port = SparePort,
        Hosts = Options.Hosts.Take(members).ToArray(),
    };

    public async ValueTask InitializeAsync() =>
        _cluster = await LocalCluster.StartAsync(Options, TestContextLogger.Instance, TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    /// <summary>Brings back "member 1 primary, 2 and 3 streaming replicas of it, all running": a quick check when nothing
    /// changed, a rebuild from scratch otherwise.</summary>
    public async Task ResetAsync(CancellationToken cancellationToken = default)
    {
        if (await IsInInitialShapeAsync(cancellationToken))
        {
            return;
        }

        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
            _cluster = null;
        }

        _cluster = await LocalCluster.StartAsync(Options, TestContextLogger.Instance, cancellationToken);
    }

    private async Task<bool> IsInInitialShapeAsync(CancellationToken cancellationToken)
    {
        if (_cluster is not { IsDisposed: false } cluster || cluster.CurrentPrimary != cluster.Members[0])
        {
            return false;
        }

        foreach (var member in cluster.Members)
        {
            if (!member.IsRunning)
            {
                return false;
            }
        }

        try
        {
            var primary = cluster.Members[0];
            if (await primary.RunSqlAsync("select pg_is_in_recovery()", cancellationToken) != "f")
            {
                return false;
            }

            var streaming = await primary.RunSqlAsync(
                "select application_name from pg_stat_replication where state = 'streaming' order by 1",
                cancellationToken);
            var expected = string.Join('\n', cluster.Members.Skip(1).Select(m => m.Name).Order(StringComparer.Ordinal));
            if (streaming != expected)
            {
                return false;
            }

            foreach (var replica in cluster.Members.Skip(1))
            {
                if (await replica.RunSqlAsync("select pg_is_in_recovery()", cancellationToken) != "t")
                {
                    return false;
                }
            }

            return true;
        }
        catch (SandboxException)
        {
            return false;
        }
    }

    private static LocalClusterOptions CreateOptions()
    {
        var hosts = Environment.GetEnvironmentVariable(HostsVariable);
        if (string.IsNullOrWhiteSpace(hosts))
        {
            return new LocalClusterOptions();
        }

        var list = hosts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (list.Length != 3 || !list.All(h => IPAddress.TryParse(h, out _)))
        {
            throw new InvalidOperationException($"{HostsVariable}='{hosts}' must be three comma-separated IPv4 loopback addresses.");
        }

        return new LocalClusterOptions { Hosts = list };
    }
}
