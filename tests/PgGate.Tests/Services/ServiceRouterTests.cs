using System.Collections.Immutable;
using Microsoft.Extensions.Time.Testing;
using PgGate.Cluster;
using PgGate.Config;
using PgGate.Services;

namespace PgGate.Tests.Services;

/// <summary>The router on hand-made cluster views: live selectors, backups, queueing and shutting down sessions.</summary>
public class ServiceRouterTests
{
    private static readonly ClusterConfig Cluster = ConfigLoader.LoadNativeFromString("""
        clusters:
          pg-test:
            members:
              - { name: pg-test-1, host: 10.10.10.11, role: primary }
              - { name: pg-test-2, host: 10.10.10.12, role: replica }
              - { name: pg-test-3, host: 10.10.10.13, role: replica, offline_query: true }
            health: { source: sql, sql: { user: m, password: m } }
            services:
              - pigsty-defaults
              - { name: tiny, port: 5439, selector: "[? pg_role == `replica`]", check: /replica,
                  options: "inter 2s fastinter 1s downinter 2s rise 3 fall 3 on-marked-down shutdown-sessions slowstart 10s maxconn 1 maxqueue 2 weight 100",
                  queue_timeout: 1s }
              - { name: ramp, port: 5440, selector: "[? pg_role == `replica`]", check: /replica,
                  options: "inter 2s fastinter 1s downinter 2s rise 3 fall 3 slowstart 10s maxconn 10 maxqueue 5 weight 100",
                  queue_timeout: 20s }
        """, "router-test.yml").Clusters[0];

    private static ServiceConfig Service(string name) => Cluster.Services.Single(s => s.Name == name);

    private static MemberFacts Primary(long timeline = 1) => new() { Reachable = true, Running = true, Role = MemberRole.Primary, IsLeader = true, Timeline = timeline };
    private static readonly MemberFacts Replica = new() { Reachable = true, Running = true, Role = MemberRole.Replica, LagBytes = 0 };
    private static readonly MemberFacts Down = new() { Error = "connection refused" };

    private static long _version;

    /// <summary>A view where each member's checks pass exactly as Patroni's rules say for its facts.</summary>
    private static ClusterView View(DateTimeOffset now, params MemberFacts[] facts)
    {
        var monitorChecks = Cluster.Services.Select(CheckSpec.For).Distinct().ToArray();
        var members = ImmutableArray.CreateBuilder<MemberView>();
        for (var i = 0; i < facts.Length; i++)
        {
            var checks = monitorChecks.Select(spec =>
            {
                var up = PatroniCheckRules.Passes(spec.Path, facts[i]);
                return new CheckStatus { Spec = spec, IsUp = up, Phase = up ? CheckPhase.Up : CheckPhase.Down, Health = up ? 5 : 0, LastChange = now };
            }).ToImmutableArray();
            members.Add(new MemberView { Config = Cluster.Members[i], Facts = facts[i], Checks = checks });
        }
        return new ClusterView(Cluster, Interlocked.Increment(ref _version), now, members.ToImmutable());
    }

    private static (ServiceRouter Router, FakeTimeProvider Clock) Router(string service)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero));
        return (new ServiceRouter(Cluster, Service(service), clock, new ThrowOnErrorLogger()), clock);
    }

    private static string[] Serving(ServiceRouter r) => [.. r.Servers.Usable.Select(s => s.Name)];

    [Fact]
    public void Replica_service_serves_replicas_and_keeps_the_primary_as_backup()
    {
        var (r, clock) = Router("replica");
        r.Apply(View(clock.GetUtcNow(), Primary(), Replica, Replica));
        Assert.Equal(["pg-test-2", "pg-test-3"], Serving(r));
        Assert.True(r.Servers.Find("pg-test-1")!.IsBackup);

        r.Apply(View(clock.GetUtcNow(), Primary(), Down, Down));
        Assert.Equal(["pg-test-1"], Serving(r));
        Assert.True(r.Servers.UsingBackups);
    }

    [Fact]
    public void After_a_failover_live_roles_fix_pigstys_stale_backups()
    {
        var (r, clock) = Router("replica");
        // pg-test-2 was promoted; pg-test-1 came back as a replica.
        r.Apply(View(clock.GetUtcNow(), Replica, Primary(2), Replica));
        Assert.Equal(["pg-test-1", "pg-test-3"], Serving(r));
        Assert.True(r.Servers.Find("pg-test-2")!.IsBackup, "the new primary is a backup of the replica service");
        Assert.False(r.Servers.Find("pg-test-1")!.IsBackup, "the ex-primary serves reads again");
    }

    [Fact]
    public void A_server_that_goes_down_or_leaves_has_its_sessions_shut_down()
    {
        var (r, clock) = Router("offline");
        r.Apply(View(clock.GetUtcNow(), Primary(), Replica, Replica));
        Assert.Equal(["pg-test-3"], Serving(r));
        var server = r.Servers.Find("pg-test-3")!.State;
        var session = new FakeSession();
        server.Attach(session);

        // The offline replica is promoted: /replica fails on it.
        r.Apply(View(clock.GetUtcNow(), Primary(), Replica, Primary(2)));
        Assert.Equal("pg-test-3 was marked down in service pg-test-offline", session.Reason);
        Assert.Equal(["pg-test-2"], Serving(r));
    }

    [Fact]
    public void A_backup_that_stops_being_used_keeps_its_sessions()
    {
        var (r, clock) = Router("replica");
        r.Apply(View(clock.GetUtcNow(), Primary(), Down, Down));
        var backup = r.Servers.Find("pg-test-1")!.State;
        var session = new FakeSession();
        backup.Attach(session);
        r.Apply(View(clock.GetUtcNow(), Primary(), Replica, Replica));
        Assert.Null(session.Reason);
    }

    [Fact]
    public async Task Clients_queue_in_order_for_a_full_server_and_time_out_with_53300()
    {
        var (r, clock) = Router("tiny");
        r.Apply(View(clock.GetUtcNow(), Primary(), Replica, Down));
        var first = await r.RouteAsync(null, TestContext.Current.CancellationToken);
        Assert.True(first.Server?.Name == "pg-test-2", ServiceRouter.Describe(r.Servers) + " / " + first.Refusal);

        var second = r.RouteAsync(null, TestContext.Current.CancellationToken).AsTask();
        var third = r.RouteAsync(null, TestContext.Current.CancellationToken).AsTask();
        Assert.Equal(2, r.QueueLength);
        var fourth = await r.RouteAsync(null, TestContext.Current.CancellationToken);
        Assert.Equal("53300", fourth.Refusal?.SqlState);   // maxqueue 2 x 1 server

        r.Release(first.Server!);
        var s2 = await second;
        Assert.Equal("pg-test-2", s2.Server?.Name);
        Assert.False(third.IsCompleted, "FIFO: the third client still waits");

        clock.Advance(TimeSpan.FromSeconds(1));
        var t3 = await third.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Equal("53300", t3.Refusal?.SqlState);
        Assert.Contains("queue", t3.Refusal!.Message);
        Assert.Equal(1, r.QueueTimeouts);
    }

    [Fact]
    public async Task A_client_queued_behind_a_server_in_slow_start_is_served_when_its_ramp_opens_a_slot()
    {
        var (r, clock) = Router("ramp");
        r.Apply(View(clock.GetUtcNow(), Primary(), Down, Down));
        // pg-test-2 comes back: slow start gives it 1 of its 10 slots now, 2 after 1 s, all 10 after 10 s.
        r.Apply(View(clock.GetUtcNow(), Primary(), Replica, Down));
        var first = await r.RouteAsync(null, TestContext.Current.CancellationToken);
        Assert.Equal("pg-test-2", first.Server?.Name);
        var second = r.RouteAsync(null, TestContext.Current.CancellationToken).AsTask();
        Assert.False(second.IsCompleted, "one slot while the ramp starts");

        // Nobody leaves; the ramp alone opens the second slot.
        clock.Advance(TimeSpan.FromMilliseconds(900));
        Assert.False(second.IsCompleted, "the second slot opens after 1 s");
        clock.Advance(TimeSpan.FromMilliseconds(150));
        var served = await second.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Equal("pg-test-2", served.Server?.Name);
        Assert.Equal(0, r.QueueTimeouts);
    }

    [Fact]
    public async Task A_client_arriving_while_no_server_is_up_is_served_when_one_comes_up()
    {
        var (r, clock) = Router("primary");
        r.Apply(View(clock.GetUtcNow(), Down, Replica, Replica));
        var waiting = r.RouteAsync(null, TestContext.Current.CancellationToken).AsTask();
        Assert.False(waiting.IsCompleted);
        r.Apply(View(clock.GetUtcNow(), Down, Primary(2), Replica));
        var routed = await waiting.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Equal("pg-test-2", routed.Server?.Name);
    }

    [Fact]
    public async Task Without_any_server_the_refusal_is_57P03_and_names_the_service()
    {
        var (r, clock) = Router("primary");
        r.Apply(View(clock.GetUtcNow(), Down, Replica, Replica));
        var waiting = r.RouteAsync(null, TestContext.Current.CancellationToken).AsTask();
        clock.Advance(Service("primary").QueueTimeout);
        var refused = await waiting.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Equal("57P03", refused.Refusal?.SqlState);
        Assert.Contains("pg-test-primary", refused.Refusal!.Message);
        Assert.Contains("/primary", refused.Refusal.Message);
    }

    [Fact]
    public void A_server_back_from_down_ramps_up_with_slow_start_but_not_at_start_up()
    {
        var (r, clock) = Router("replica");
        r.Apply(View(clock.GetUtcNow(), Primary(), Replica, Replica));
        Assert.Null(r.Servers.Find("pg-test-2")!.State.RampFrom);
        r.Apply(View(clock.GetUtcNow(), Primary(), Down, Replica));
        clock.Advance(TimeSpan.FromSeconds(5));
        r.Apply(View(clock.GetUtcNow(), Primary(), Replica, Replica));
        Assert.Equal(clock.GetUtcNow(), r.Servers.Find("pg-test-2")!.State.RampFrom);
    }

    /// <summary>An error logged by the router (a selector failing on live facts) fails the test.</summary>
    private sealed class ThrowOnErrorLogger : Microsoft.Extensions.Logging.ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;
        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state,
            Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= Microsoft.Extensions.Logging.LogLevel.Error)
                throw new InvalidOperationException(formatter(state, exception));
        }
    }

    private sealed class FakeSession : IServiceSession
    {
        public string? Reason { get; private set; }
        public void Shutdown(string reason) => Reason = reason;
    }
}
