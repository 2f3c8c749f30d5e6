using System.Collections.Concurrent;
using System.Collections.Immutable;
using PgGate.Cluster;
using PgGate.Config;
using PgGate.Pooling;

namespace PgGate.Services;

/// <summary>
/// The backend resolver of a service with <c>dest: pool</c>: every checkout of the pooler goes to the PostgreSQL of a
/// member the service routes to now (its usable servers, weighted round-robin), so after a failover the next
/// transaction runs on the new primary. While no server is usable the pooler's clients wait (bounded by
/// <c>query_wait_timeout</c>); a member that leaves the usable set stops being current, so its pools retire. A member
/// that refuses connections before its checks notice is skipped until the next view or for <see cref="RetryAfter"/>.
/// </summary>
public sealed class ServiceBackendResolver : IBackendResolver, IBackendFailureListener, IBackendPrewarmSource, IDisposable
{
    /// <summary>How long a backend that could not be reached is passed over when the health checks still call it up.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromMilliseconds(500);

    private readonly ServiceRouter _router;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, BackendEndpoint> _endpoints = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<BackendEndpoint, long> _unreachableUntil = new();
    private readonly Lock _gate = new();
    private volatile Route _route = Route.None;
    private readonly bool _leaderChecked;
    private string? _prewarmedFor;
    private volatile BackendEndpoint? _prewarmTarget;
    private ITimer? _retryTimer;

    public ServiceBackendResolver(ServiceRouter router, TimeProvider? time = null)
    {
        _router = router;
        _time = time ?? TimeProvider.System;
        _leaderChecked = CheckSpec.For(router.Service).Path.IsLeaderPath;
        Update();
    }

    public ServiceRouter Router => _router;

    /// <summary>The service's name (<c>pg-test-primary</c>), which labels its pools.</summary>
    public string Name => _router.Name;

    /// <summary>The members' PostgreSQL endpoints that take new transactions now.</summary>
    public ImmutableArray<BackendEndpoint> Current => _route.Endpoints;

    public event EventHandler? Changed;

    public event EventHandler<BackendEndpoint>? PrewarmRequested;

    /// <summary>Call after the router applied a view (subscribe after the router): raises <see cref="Changed"/> when the
    /// usable servers changed.</summary>
    public void Apply(ClusterView view)
    {
        if (Update())
        {
            _unreachableUntil.Clear();
            Changed?.Invoke(this, EventArgs.Empty);
        }
        RequestPrewarm(view);
    }

    /// <summary>
    /// A leader-checked service (the primary) whose cluster's leader key names a member it does not route to yet: that
    /// member is being promoted, and its first transactions would wait for new backends (a fork and a login, ~100 ms).
    /// Asks the pooler, once per new key holder, to open them now; PostgreSQL accepts connections during recovery.
    /// </summary>
    private void RequestPrewarm(ClusterView view)
    {
        var holder = view.LeaderKeyHolder;
        if (!_leaderChecked || holder is null)
        {
            _prewarmedFor = null;
            _prewarmTarget = null;
            return;
        }
        if (holder == _prewarmedFor)
            return;
        _prewarmedFor = holder;
        _prewarmTarget = null;
        if (_router.Servers.Find(holder) is not { } entry || entry.State.ConfiguredWeight <= 0)
            return;
        var endpoint = EndpointOf(entry.State.Member);
        foreach (var current in _route.Endpoints)
        {
            if (ReferenceEquals(current, endpoint))
                return;
        }
        _prewarmTarget = endpoint;
        PrewarmRequested?.Invoke(this, endpoint);
    }

    private bool Update()
    {
        var usable = _router.Servers.Usable;
        var builder = ImmutableArray.CreateBuilder<BackendEndpoint>(usable.Length);
        var weights = ImmutableArray.CreateBuilder<int>(usable.Length);
        foreach (var entry in usable)
        {
            var member = entry.State.Member;
            if (entry.State.ConfiguredWeight <= 0)
                continue;
            // One instance per member: sessions recognise "same backend as last time" by reference.
            builder.Add(EndpointOf(member));
            weights.Add(entry.State.ConfiguredWeight);
        }

        var next = new Route(builder.ToImmutable(), weights.ToImmutable());
        var previous = _route;
        if (previous.SameAs(next))
            return false;
        _route = next;
        return true;
    }

    private BackendEndpoint EndpointOf(MemberConfig member) =>
        _endpoints.GetOrAdd(member.Name, static (_, m) => new BackendEndpoint(m.Host, m.PgPort, m.Name), member);

    public BackendChoice Resolve(PoolerDatabase database, string user)
    {
        var route = _route;
        var endpoints = route.Endpoints;
        if (endpoints.IsEmpty)
        {
            return BackendChoice.Wait($"service {_router.Name} has no server up ({ServiceRouter.Describe(_router.Servers)}); " +
                "waiting for one, as in a failover");
        }

        var now = _time.GetTimestamp();
        var best = -1;
        lock (route)
        {
            // Smooth weighted round-robin (as the relay's picker): weights interleave instead of coming in runs.
            var total = 0;
            for (var i = 0; i < endpoints.Length; i++)
            {
                if (!IsReachable(endpoints[i], now))
                    continue;
                var weight = route.Weights[i];
                route.Current[i] += weight;
                total += weight;
                if (best < 0 || route.Current[i] > route.Current[best])
                    best = i;
            }

            if (best >= 0)
                route.Current[best] -= total;
        }

        if (best < 0)
        {
            return BackendChoice.Wait($"service {_router.Name}: {Names(endpoints)} refused connections; waiting for the health checks " +
                "to confirm a new server, as in a failover");
        }

        return BackendChoice.Use(endpoints[best]);
    }

    public bool IsCurrent(BackendEndpoint backend, PoolerDatabase database)
    {
        // The key holder being promoted keeps its prewarmed pools through unrelated changes (a retry after a refused
        // connection, another member's check); checkouts go by Resolve, which offers it only once it is routed to.
        if (ReferenceEquals(backend, _prewarmTarget))
            return true;

        foreach (var endpoint in _route.Endpoints)
        {
            if (endpoint.Equals(backend))
                return true;
        }

        return false;
    }

    public void OnBackendUnreachable(BackendEndpoint backend, string reason)
    {
        _unreachableUntil[backend] = _time.GetTimestamp() + (long)(RetryAfter.TotalSeconds * _time.TimestampFrequency);
        lock (_gate)
        {
            // Waiting clients try again once the pause is over (or at once when a new view comes first).
            _retryTimer ??= _time.CreateTimer(static state => ((ServiceBackendResolver)state!).OnRetry(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _retryTimer.Change(RetryAfter, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnRetry() => Changed?.Invoke(this, EventArgs.Empty);

    private bool IsReachable(BackendEndpoint endpoint, long now) =>
        !_unreachableUntil.TryGetValue(endpoint, out var until) || now >= until;

    private static string Names(ImmutableArray<BackendEndpoint> endpoints)
    {
        var names = new string[endpoints.Length];
        for (var i = 0; i < endpoints.Length; i++)
            names[i] = endpoints[i].Name ?? endpoints[i].ToString();
        return string.Join(", ", names);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _retryTimer?.Dispose();
            _retryTimer = null;
        }
    }

    private sealed class Route(ImmutableArray<BackendEndpoint> endpoints, ImmutableArray<int> weights)
    {
        public static readonly Route None = new([], []);

        public ImmutableArray<BackendEndpoint> Endpoints { get; } = endpoints;

        public ImmutableArray<int> Weights { get; } = weights;

        /// <summary>Smooth round-robin accumulators, under the route's lock.</summary>
        public int[] Current { get; } = new int[endpoints.Length];

        public bool SameAs(Route other)
        {
            if (Endpoints.Length != other.Endpoints.Length)
                return false;
            for (var i = 0; i < Endpoints.Length; i++)
            {
                if (!ReferenceEquals(Endpoints[i], other.Endpoints[i]) || Weights[i] != other.Weights[i])
                    return false;
            }
            return true;
        }
    }
}
