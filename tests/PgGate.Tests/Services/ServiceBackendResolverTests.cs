using System.Collections.Immutable;
using Microsoft.Extensions.Time.Testing;
using PgGate.Cluster;
using PgGate.Config;
using PgGate.Pooling;
using PgGate.Services;

namespace PgGate.Tests.Services;

/// <summary>The resolver of a <c>dest: pool</c> service on hand-made views: which PostgreSQL each checkout goes to.</summary>
public class ServiceBackendResolverTests
{
    private static readonly ClusterConfig Cluster = ConfigLoader.LoadNativeFromString("""
        clusters:
          pg-test:
            members:
              - { name: pg-test-1, host: 10.10.10.11, role: primary }
              - { name: pg-test-2, host: 10.10.10.12, role: replica, pg_port: 15432 }
              - { name: pg-test-3, host: 10.10.10.13, role: replica }
            health: { source: sql, sql: { user: m, password: m } }
            default_service_dest: pool
            services: pigsty-defaults
        pooler: { auth_type: trust }
        """, "resolver-test.yml").Clusters[0];

    private static readonly PoolerDatabase Any = new() { Name = "*" };
    private static readonly MemberFacts Replica = new() { Reachable = true, Running = true, Role = MemberRole.Replica, LagBytes = 0 };
    private static readonly MemberFacts Down = new() { Error = "connection refused" };
    private static long _version;

    private static MemberFacts Primary(long timeline = 1) => new() { Reachable = true, Running = true, Role = MemberRole.Primary, IsLeader = true, Timeline = timeline };

    private static ClusterView View(DateTimeOffset now, params MemberFacts[] facts)
    {
        var specs = Cluster.Services.Select(CheckSpec.For).Distinct().ToArray();
        var members = ImmutableArray.CreateBuilder<MemberView>();
        for (var i = 0; i < facts.Length; i++)
        {
            var checks = specs.Select(spec =>
            {
                var up = PatroniCheckRules.Passes(spec.Path, facts[i]);
                return new CheckStatus { Spec = spec, IsUp = up, Phase = up ? CheckPhase.Up : CheckPhase.Down, Health = up ? 5 : 0, LastChange = now };
            }).ToImmutableArray();
            members.Add(new MemberView { Config = Cluster.Members[i], Facts = facts[i], Checks = checks });
        }
        return new ClusterView(Cluster, Interlocked.Increment(ref _version), now, members.ToImmutable());
    }

    private sealed record Setup(ServiceRouter Router, ServiceBackendResolver Resolver, FakeTimeProvider Clock, List<int> Changes)
    {
        public void Apply(ClusterView view)
        {
            Router.Apply(view);
            Resolver.Apply(view);
        }
    }

    private static Setup Create(string service, params MemberFacts[] facts)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero));
        var router = new ServiceRouter(Cluster, Cluster.Services.Single(s => s.Name == service), clock, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        router.Apply(View(clock.GetUtcNow(), facts));
        var resolver = new ServiceBackendResolver(router, clock);
        var changes = new List<int>();
        resolver.Changed += (_, _) => changes.Add(changes.Count);
        return new Setup(router, resolver, clock, changes);
    }

    private static BackendEndpoint Use(ServiceBackendResolver resolver)
    {
        var choice = resolver.Resolve(Any, "test");
        return choice.Endpoint ?? throw new Xunit.Sdk.XunitException("expected a backend, got: " + choice.Reason);
    }

    [Fact]
    public void The_primary_service_sends_every_checkout_to_the_primarys_postgres()
    {
        var s = Create("primary", Primary(), Replica, Replica);
        var endpoint = Use(s.Resolver);
        Assert.Equal(("10.10.10.11", 5432, "pg-test-1"), (endpoint.Host, endpoint.Port, endpoint.Name));
        Assert.Same(endpoint, Use(s.Resolver));
        Assert.True(s.Resolver.IsCurrent(endpoint, Any));
        Assert.False(s.Resolver.IsCurrent(new BackendEndpoint("10.10.10.12", 15432), Any));
        Assert.Equal("pg-test-primary", ((IBackendResolver)s.Resolver).Name);
    }

    [Fact]
    public void During_a_failover_clients_wait_and_then_go_to_the_new_primary()
    {
        var s = Create("primary", Primary(), Replica, Replica);
        var old = Use(s.Resolver);

        s.Apply(View(s.Clock.GetUtcNow(), Down, Replica, Replica));
        Assert.Single(s.Changes);
        var wait = s.Resolver.Resolve(Any, "test");
        Assert.True(wait.IsWait);
        Assert.Contains("service pg-test-primary has no server up", wait.Reason, StringComparison.Ordinal);
        Assert.False(s.Resolver.IsCurrent(old, Any));

        s.Apply(View(s.Clock.GetUtcNow(), Down, Primary(2), Replica));
        Assert.Equal(2, s.Changes.Count);
        var promoted = Use(s.Resolver);
        Assert.Equal(("10.10.10.12", 15432, "pg-test-2"), (promoted.Host, promoted.Port, promoted.Name));

        // A view that changes nothing the service routes by raises nothing.
        s.Apply(View(s.Clock.GetUtcNow(), Down, Primary(2), Replica));
        Assert.Equal(2, s.Changes.Count);
    }

    [Fact]
    public void When_the_leader_key_names_a_member_still_in_recovery_the_pooler_is_asked_once_to_open_connections_to_it()
    {
        var s = Create("primary", Primary(), Replica, Replica);
        var requested = new List<BackendEndpoint>();
        s.Resolver.PrewarmRequested += (_, endpoint) => requested.Add(endpoint);

        // The key moved to pg-test-2 (Patroni promotes it); nobody passes the primary check yet.
        var promoting = View(s.Clock.GetUtcNow(), Down, Replica, Replica).WithLeaderKeyHolder("pg-test-2");
        s.Apply(promoting);
        Assert.Equal(("10.10.10.12", 15432, "pg-test-2"), (requested.Single().Host, requested.Single().Port, requested.Single().Name));

        // More views while the promotion runs ask nothing more, and the prewarmed pools are not retired by them (nor
        // by a retry after a refused connection), though no checkout is sent there yet.
        s.Apply(View(s.Clock.GetUtcNow(), Down, Replica, Replica).WithLeaderKeyHolder("pg-test-2"));
        Assert.Single(requested);
        Assert.True(s.Resolver.IsCurrent(requested.Single(), Any));
        Assert.True(s.Resolver.Resolve(Any, "test").IsWait);

        // Routed there now: the endpoint the pools were opened for is the one checkouts get.
        s.Apply(View(s.Clock.GetUtcNow(), Down, Primary(2), Replica).WithLeaderKeyHolder("pg-test-2"));
        Assert.Same(requested.Single(), Use(s.Resolver));
        Assert.Single(requested);
    }

    [Fact]
    public void Only_leader_checked_services_prewarm_and_never_for_the_member_they_already_route_to()
    {
        var replica = Create("replica", Primary(), Replica, Replica);
        var primary = Create("primary", Primary(), Replica, Replica);
        var requested = 0;
        BackendEndpoint? target = null;
        replica.Resolver.PrewarmRequested += (_, _) => requested++;
        primary.Resolver.PrewarmRequested += (_, endpoint) => { requested++; target = endpoint; };

        var view = View(primary.Clock.GetUtcNow(), Down, Replica, Replica).WithLeaderKeyHolder("pg-test-3");
        replica.Apply(view);
        Assert.Equal(0, requested);

        // A key holder that lost the key before it was promoted: its prewarmed pools may retire.
        primary.Apply(view);
        Assert.Equal(1, requested);
        Assert.True(primary.Resolver.IsCurrent(target!, Any));
        primary.Apply(View(primary.Clock.GetUtcNow(), Down, Replica, Replica).WithLeaderKeyHolder(null));
        Assert.False(primary.Resolver.IsCurrent(target!, Any));
        requested = 0;

        var steady = View(primary.Clock.GetUtcNow(), Primary(), Replica, Replica).WithLeaderKeyHolder("pg-test-1");
        primary.Apply(steady);
        Assert.Equal(0, requested);
    }

    [Fact]
    public void The_replica_service_spreads_checkouts_over_its_replicas()
    {
        var s = Create("replica", Primary(), Replica, Replica);
        var names = Enumerable.Range(0, 6).Select(_ => Use(s.Resolver).Name).ToList();
        Assert.Equal(3, names.Count(n => n == "pg-test-2"));
        Assert.Equal(3, names.Count(n => n == "pg-test-3"));

        // Replicas down: the primary (backup) serves; the replicas' pools retire.
        var replica = Use(s.Resolver);
        s.Apply(View(s.Clock.GetUtcNow(), Primary(), Down, Down));
        Assert.Equal("pg-test-1", Use(s.Resolver).Name);
        Assert.False(s.Resolver.IsCurrent(replica, Any));
    }

    [Fact]
    public void A_backend_that_refuses_connections_before_its_checks_notice_makes_clients_wait_then_retry()
    {
        var s = Create("primary", Primary(), Replica, Replica);
        var primary = Use(s.Resolver);

        s.Resolver.OnBackendUnreachable(primary, "connection refused");
        var wait = s.Resolver.Resolve(Any, "test");
        Assert.True(wait.IsWait);
        Assert.Contains("pg-test-1 refused connections", wait.Reason, StringComparison.Ordinal);
        Assert.True(s.Resolver.IsCurrent(primary, Any), "a refused connection alone does not retire the pools");
        Assert.Empty(s.Changes);

        s.Clock.Advance(ServiceBackendResolver.RetryAfter);
        Assert.Single(s.Changes);
        Assert.Same(primary, Use(s.Resolver));
    }
}
