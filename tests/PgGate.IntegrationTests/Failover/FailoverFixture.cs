using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;
using PgGate.Cluster;
using PgGate.Config;
using PgGate.Hosting;
using PgGate.IntegrationTests.Fixtures;
using PgGate.Sandbox;
using PgGate.Sandbox.Patroni;

namespace PgGate.IntegrationTests.Failover;

/// <summary>
/// A real Patroni cluster in synchronous mode (etcd and three members, Pigsty's settings, the <c>fast</c> timers) with
/// PgGate in front of it as production runs it: one node beside every member, binding the member's address, checking with
/// the <c>dcs</c> source (the etcd leader key, Patroni's checks as second opinion), Pigsty's default services (relay to
/// PostgreSQL) and the admin API on :9101. Addresses: etcd on 127.0.0.40, members on .41-.43, or the four addresses in
/// <c>PGGATE_PATRONI_TEST_HOSTS</c>. Skips with the reason when Patroni, etcd or PostgreSQL is missing.
/// </summary>
public sealed class FailoverFixture : IAsyncLifetime
{
    private PatroniCluster? _cluster;
    private ILoggerFactory? _loggers;
    private DirectoryInfo? _directory;

    public PatroniClusterOptions Options { get; } = CreateOptions();

    public string? SkipReason { get; } = PatroniCluster.SkipReason();

    public PatroniCluster Cluster => _cluster ?? throw new InvalidOperationException("The failover fixture has no cluster (skipped or failed to start).");

    public GateHost Gate { get; private set; } = null!;

    public ClusterMonitor Monitor => Gate.Monitors[0];

    public async ValueTask InitializeAsync()
    {
        if (SkipReason is not null)
            return;
        var cancel = TestContext.Current.CancellationToken;
        _cluster = await PatroniCluster.StartAsync(Options, TestContextLogger.Instance, cancel);
        _loggers = LoggerFactory.Create(b => b.AddProvider(new FailoverLoggerProvider()).SetMinimumLevel(LogLevel.Debug));
        _directory = Directory.CreateTempSubdirectory("pggate-failover-");
        var userList = Path.Combine(_directory.FullName, "userlist.txt");
        await File.WriteAllTextAsync(userList, string.Concat(LocalClusterUser.PigstyDefaults.Select(u => $"\"{u.Name}\" \"{u.Password}\"\n")), cancel);
        var config = ConfigLoader.LoadNativeFromString(Yaml(_cluster, userList), "failover-test.yml");
        Gate = new GateHost(config, [.. _cluster.Members.Select(m => new NodeSpec(m.Name, m.Host))], _loggers);
        await Gate.StartAsync(cancel);
        await WaitForGateAsync(TimeSpan.FromSeconds(30), cancel);
    }

    public async ValueTask DisposeAsync()
    {
        if (Gate is not null)
            await Gate.DisposeAsync();
        if (_cluster is not null)
            await _cluster.DisposeAsync();
        _loggers?.Dispose();
        _directory?.Delete(recursive: true);
    }

    /// <summary>Primary (5433) and replica (5434) services pooled, as Pigsty's defaults with PgGate's pooler; the default
    /// service (5436, primary) and <c>replica-direct</c> (5444) relay to PostgreSQL; the node pooler on 6432.</summary>
    public static string Yaml(PatroniCluster cluster, string userList) => $$"""
        clusters:
          {{cluster.Name}}:
            members:
              - { name: {{cluster.Members[0].Name}}, host: {{cluster.Members[0].Host}}, role: primary }
              - { name: {{cluster.Members[1].Name}}, host: {{cluster.Members[1].Host}}, role: replica }
              - { name: {{cluster.Members[2].Name}}, host: {{cluster.Members[2].Host}}, role: replica }
            default_service_dest: pool
            health:
              source: dcs
              rto: fast
              sql: { user: dbuser_monitor, password: DBUser.Monitor }
              patroni: { username: {{cluster.Options.RestUsername}}, password: {{cluster.Options.RestPassword}} }
              dcs: { endpoints: [ "{{cluster.Etcd.ClientUrl}}" ], namespace: {{cluster.Options.Namespace}} }
            services:
              - pigsty-defaults
              - { name: replica-direct, port: 5444, selector: "[]", backup: "[? pg_role == `primary` || pg_role == `offline` ]", check: /read-only, dest: postgres }
        pooler:
          pool_mode: transaction
          auth_type: scram-sha-256
          auth_file: {{userList}}
          default_pool_size: 10
          query_wait_timeout: 60
          server_login_retry: 1
        admin: { listen: "*:9101" }
        """;

    /// <summary>Skips the calling test when the cluster cannot run here.</summary>
    public PatroniCluster RequireCluster()
    {
        Assert.SkipWhen(SkipReason is not null, "Failover tests need Patroni, etcd and PostgreSQL: " + SkipReason);
        return Cluster;
    }

    /// <summary>Every member running and streaming, one leader, and PgGate routing writes to it; returns the leader.</summary>
    public async Task<PatroniMember> ResetAsync(CancellationToken cancellationToken)
    {
        var cluster = RequireCluster();
        foreach (var control in Gate.Nodes.SelectMany(n => n.PauseControls.Values))
            control.Resume();
        if (!cluster.Etcd.IsRunning)
            await cluster.Etcd.StartAgainAsync(cancellationToken);
        foreach (var member in cluster.Members)
        {
            if (!member.IsPatroniRunning)
                await cluster.StartMemberAsync(member, cancellationToken);
        }
        var leader = await cluster.WaitUntilHealthyAsync(TimeSpan.FromSeconds(90), cancellationToken);
        await WaitForSyncStandbyAsync(leader, TimeSpan.FromSeconds(60), cancellationToken);
        await WaitForGateAsync(TimeSpan.FromSeconds(30), cancellationToken);
        return cluster.Member(leader);
    }

    /// <summary>
    /// In synchronous mode only the member named in Patroni's <c>/sync</c> key may be promoted; right after a leader change
    /// the new leader names its standby on a later loop, and a failure before that leaves the cluster without a candidate.
    /// A scenario starts only once a standby passes <c>/sync</c>.
    /// </summary>
    public async Task<string> WaitForSyncStandbyAsync(string leader, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            foreach (var m in Cluster.Members)
            {
                if (m.Name != leader && await Cluster.CheckAsync(m, "/sync", cancellationToken) == HttpStatusCode.OK)
                    return m.Name;
            }
            if (Stopwatch.GetTimestamp() > deadline)
                throw new TimeoutException($"no member of {Cluster.Name} passed /sync within {timeout.TotalSeconds:0} s after {leader} took the lead");
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Waits until PgGate routes writes to the member etcd names leader and sees every member.</summary>
    public async Task WaitForGateAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var leader = await Cluster.WaitForLeaderAsync(l => l is not null, timeout, cancellationToken);
        await Monitor.WaitForAsync(v => v.WriteLeader?.Name == leader && v.Members.All(m => m.Facts.Reachable), timeout, cancellationToken);
    }

    /// <summary>Direct connection string to a member's PostgreSQL (no PgGate).</summary>
    public static string Direct(PatroniMember member) => new Npgsql.NpgsqlConnectionStringBuilder
    {
        Host = member.Host,
        Port = member.Port,
        Username = LocalClusterUser.Dba.Name,
        Password = LocalClusterUser.Dba.Password,
        Database = "test",
        Pooling = false,
        Timeout = 5,
    }.ConnectionString;

    /// <summary>The load through PgGate's node beside <paramref name="member"/>, pooled: primary service 5433, replica service 5434.</summary>
    public static LoadTarget PooledTarget(PatroniMember member) =>
        new(member.Host, 5433, 5434, LocalClusterUser.Test.Name, LocalClusterUser.Test.Password);

    /// <summary>The load through PgGate's node beside <paramref name="member"/>, relayed: default service 5436, replica-direct 5444.</summary>
    public static LoadTarget RelayTarget(PatroniMember member) =>
        new(member.Host, 5436, 5444, LocalClusterUser.Test.Name, LocalClusterUser.Test.Password);

    private static PatroniClusterOptions CreateOptions()
    {
        var options = new PatroniClusterOptions { SynchronousMode = true };
        var hosts = Environment.GetEnvironmentVariable(Patroni.PatroniFixture.HostsVariable);
        if (string.IsNullOrWhiteSpace(hosts))
            return options;
        var list = hosts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (list.Length != 4 || !list.All(h => IPAddress.TryParse(h, out _)))
            throw new InvalidOperationException($"{Patroni.PatroniFixture.HostsVariable}='{hosts}' must be four comma-separated IPv4 loopback addresses (etcd, then three members).");
        return options with { EtcdHost = list[0], Hosts = list[1..] };
    }

    internal static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
}

internal sealed class FailoverLoggerProvider : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => TestContextLogger.Instance;

    public void Dispose()
    {
    }
}
