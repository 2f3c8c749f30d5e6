using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PgGate.Admin;
using PgGate.Cluster;
using PgGate.Cluster.Dcs;
using PgGate.Config;
using PgGate.Failover;
using PgGate.Pooling;
using PgGate.Services;

namespace PgGate.Hosting;

/// <summary>
/// Everything PgGate runs in one process: a monitor per cluster (shared by the nodes of this process),
/// and per node a listener per service and the admin HTTP endpoint. Start order: monitors, routers
/// subscribed to views, then listeners, so the first client already sees checked servers.
/// </summary>
public sealed class GateHost : IAsyncDisposable
{
    private readonly GateConfig _config;
    private readonly ILoggerFactory _loggers;
    private readonly TimeProvider _time;
    private readonly IMemberProbeFactory _probes;
    private readonly List<ClusterMonitor> _monitors = [];
    private readonly List<GateNode> _nodes = [];
    private readonly List<ServiceListener> _listeners = [];
    private readonly List<EtcdLeaderWatch> _watches = [];
    private readonly List<NodePooler> _poolers = [];
    private readonly List<ServiceBackendResolver> _resolvers = [];
    private AdminServer? _admin;

    public GateHost(GateConfig config, IReadOnlyList<NodeSpec> nodes, ILoggerFactory loggers, TimeProvider? time = null, IMemberProbeFactory? probes = null)
    {
        _config = config;
        _loggers = loggers;
        _time = time ?? TimeProvider.System;
        _probes = probes ?? new ProbeFactory(_time);
        NodeSpecs = nodes.Count == 0 ? [new NodeSpec(null, null)] : nodes;
    }

    public GateConfig Config => _config;
    public IReadOnlyList<NodeSpec> NodeSpecs { get; }
    public IReadOnlyList<GateNode> Nodes => _nodes;
    public IReadOnlyList<ClusterMonitor> Monitors => _monitors;
    public DateTimeOffset StartedAt { get; private set; }

    /// <summary>The clusters a node serves: those it is a member of, or all of them for a dedicated node.</summary>
    public static IReadOnlyList<ClusterConfig> ClustersOf(GateConfig config, NodeSpec node)
    {
        if (node.Member is null)
            return config.Clusters;
        var list = new List<ClusterConfig>();
        foreach (var c in config.Clusters)
        {
            if (c.FindMember(node.Member) is not null)
                list.Add(c);
        }
        if (list.Count == 0)
            throw new ConfigException(new SourceLocation(config.SourceFile, 0, 0), "",
                $"node '{node.Member}' is not a member of any cluster (give a member name or host from the configuration)");
        return list;
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        StartedAt = _time.GetUtcNow();
        var monitorsByCluster = new Dictionary<string, ClusterMonitor>();
        var plan = new List<(NodeSpec Spec, IReadOnlyList<ClusterConfig> Clusters)>();
        foreach (var spec in NodeSpecs)
        {
            var clusters = ClustersOf(_config, spec);
            plan.Add((spec, clusters));
            foreach (var c in clusters)
            {
                if (!monitorsByCluster.ContainsKey(c.Name))
                {
                    var monitor = new ClusterMonitor(c, _probes, _time, _loggers.CreateLogger<ClusterMonitor>());
                    monitorsByCluster[c.Name] = monitor;
                    _monitors.Add(monitor);
                    if (c.Health.Source == HealthSource.Dcs)
                    {
                        var watch = new EtcdLeaderWatch(EtcdLeaderWatchOptions.FromConfig(c), _time, _loggers.CreateLogger<EtcdLeaderWatch>());
                        watch.Changed += monitor.OnLeaderKey;
                        _watches.Add(watch);
                    }
                }
            }
        }

        try
        {
            foreach (var (spec, clusters) in plan)
            {
                var name = spec.Member ?? Dns.GetHostName();
                var nodeListeners = new List<ServiceListener>();
                var nodeMonitors = new List<ClusterMonitor>();
                var nodePoolers = new List<(NodePooler Pooler, List<ServiceListener> Services)>();
                foreach (var cluster in clusters)
                {
                    var monitor = monitorsByCluster[cluster.Name];
                    nodeMonitors.Add(monitor);
                    var pooler = cluster.Pooler is { } poolerConfig ? PoolerFor(spec, cluster, poolerConfig, nodePoolers) : default;
                    foreach (var service in cluster.Services)
                    {
                        var router = new ServiceRouter(cluster, service, _time, _loggers.CreateLogger<ServiceRouter>(),
                            node: NodeSpecs.Count > 1 ? name : null);
                        router.Apply(monitor.Current);
                        monitor.ViewChanged += router.Apply;
                        var endpoint = new IPEndPoint(ListenSockets.ParseBindAddress(spec.BindAddress ?? service.Ip), service.Port);
                        ServiceListener listener;
                        if (service.Dest.Kind == DestinationKind.Pool)
                        {
                            if (pooler.Pooler is null)
                            {
                                throw new InvalidOperationException(
                                    $"service {router.Name} ({service.Location}) has dest pool, but cluster {cluster.Name} has no pooler configuration");
                            }

                            // Subscribed after the router, so it reads the servers of the view just applied.
                            var resolver = new ServiceBackendResolver(router, _time);
                            monitor.ViewChanged += resolver.Apply;
                            _resolvers.Add(resolver);
                            listener = new ServiceListener(router, endpoint, _loggers.CreateLogger<ServiceListener>(), pooler.Pooler.Pooler, resolver);
                            pooler.Services.Add(listener);
                        }
                        else
                        {
                            listener = new ServiceListener(router, endpoint, _loggers.CreateLogger<ServiceListener>());
                        }
                        try
                        {
                            listener.Start();
                        }
                        catch (SocketException ex)
                        {
                            throw new InvalidOperationException(
                                $"cannot listen on {endpoint} for service {router.Name} ({service.Location}): {ex.Message}", ex);
                        }
                        nodeListeners.Add(listener);
                        _listeners.Add(listener);
                    }
                }
                var poolers = new List<NodePooler>(nodePoolers.Count);
                foreach (var (p, _) in nodePoolers)
                    poolers.Add(p);
                _nodes.Add(new GateNode(name, spec, nodeMonitors, nodeListeners, AdminEndpointFor(spec))
                {
                    Poolers = poolers,
                    PauseControls = PauseControlsFor(name, nodeMonitors, nodeListeners, poolers),
                });
            }

            foreach (var m in _monitors)
                m.Start();
            foreach (var w in _watches)
                w.Start();

            _admin = new AdminServer(this, _loggers);
            await _admin.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    // A switchover pauses the relay services that send writes (leader checks; reads go on through it) and the node's
    // poolers that serve the cluster (new transactions wait, running ones finish, server connections close).
    private Dictionary<string, ClusterPauseControl> PauseControlsFor(string node, List<ClusterMonitor> monitors, List<ServiceListener> listeners,
        List<NodePooler> poolers)
    {
        var controls = new Dictionary<string, ClusterPauseControl>(StringComparer.Ordinal);
        foreach (var monitor in monitors)
        {
            var cluster = monitor.Config.Name;
            var participants = new List<IPauseParticipant>();
            foreach (var l in listeners)
            {
                if (l.Pooler is null && l.Router.Cluster.Name == cluster && CheckSpec.For(l.Router.Service).Path.IsLeaderPath)
                    participants.Add(new RouterPauseParticipant(l));
            }
            foreach (var p in poolers)
            {
                var ownMember = p.Member is not null && monitor.Config.FindMember(p.Member.Name) is not null;
                var serves = ownMember;
                foreach (var s in p.Services)
                    serves |= s.Router.Cluster.Name == cluster;
                if (serves)
                    participants.Add(new PoolerPauseParticipant(p, cluster, ownMember));
            }
            controls[cluster] = new ClusterPauseControl(node, monitor, participants, _time);
        }
        return controls;
    }

    /// <summary>
    /// The node's pooler for a pooler configuration (one per configuration; clusters of a native file share one): created
    /// with the node's member as the backend of its own port, which it starts listening on (PgBouncer's role).
    /// </summary>
    private (NodePooler? Pooler, List<ServiceListener> Services) PoolerFor(
        NodeSpec spec, ClusterConfig cluster, PoolerConfig config, List<(NodePooler Pooler, List<ServiceListener> Services)> nodePoolers)
    {
        foreach (var existing in nodePoolers)
        {
            if (ReferenceEquals(existing.Pooler.Config, config))
                return existing;
        }

        var member = spec.Member is null ? null : cluster.FindMember(spec.Member);
        Pooler pooler;
        try
        {
            pooler = new Pooler(config.Settings, _loggers.CreateLogger<Pooler>(), _time,
                member is null ? null : new NodeBackendResolver(member));
        }
        catch (PoolerConfigurationException ex)
        {
            throw new InvalidOperationException($"the pooler of cluster {cluster.Name} ({config.Location}) cannot start: {ex.Message}", ex);
        }

        var listeners = new List<PoolerListener>();
        var services = new List<ServiceListener>();
        var nodePooler = new NodePooler(pooler, config, member, listeners, services);
        nodePoolers.Add((nodePooler, services));
        _poolers.Add(nodePooler);
        if (member is not null && config.Listen)
        {
            var addresses = spec.BindAddress is { } bind ? [bind] : config.Settings.ListenAddr.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var address in addresses)
            {
                var endpoint = new IPEndPoint(ListenSockets.ParseBindAddress(address), member.PoolerPort);
                var listener = new PoolerListener(pooler, endpoint);
                try
                {
                    listener.Start();
                }
                catch (SocketException ex)
                {
                    throw new InvalidOperationException(
                        $"cannot listen on {endpoint} for the pooler of {member.Name} ({config.Location}): {ex.Message}", ex);
                }
                listeners.Add(listener);
            }
        }

        return (nodePooler, services);
    }

    private IPEndPoint? AdminEndpointFor(NodeSpec spec)
    {
        var listen = _config.Admin.Listen;
        if (string.IsNullOrEmpty(listen) || listen == "off")
            return null;
        var colon = listen.LastIndexOf(':');
        var host = colon < 0 ? "*" : listen[..colon];
        var port = int.Parse(colon < 0 ? listen : listen[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        return new IPEndPoint(ListenSockets.ParseBindAddress(spec.BindAddress ?? host), port);
    }

    /// <summary>The listener of a service on a node, for tests and the status page.</summary>
    public ServiceListener? FindListener(string node, string cluster, string service)
    {
        foreach (var n in _nodes)
        {
            if (n.Name != node)
                continue;
            foreach (var l in n.Listeners)
            {
                if (l.Router.Cluster.Name == cluster && l.Router.Service.Name == service)
                    return l;
            }
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        // Clients held by a switchover pause are let go before their listeners close.
        foreach (var n in _nodes)
        {
            foreach (var control in n.PauseControls.Values)
                control.Resume();
        }
        if (_admin is not null)
            await _admin.DisposeAsync().ConfigureAwait(false);
        foreach (var l in _listeners)
            await l.DisposeAsync().ConfigureAwait(false);
        foreach (var p in _poolers)
        {
            foreach (var l in p.Listeners)
                await l.DisposeAsync().ConfigureAwait(false);
            await p.Pooler.DisposeAsync().ConfigureAwait(false);
        }
        foreach (var r in _resolvers)
            r.Dispose();
        foreach (var w in _watches)
            await w.DisposeAsync().ConfigureAwait(false);
        foreach (var m in _monitors)
            await m.DisposeAsync().ConfigureAwait(false);
        _watches.Clear();
        _listeners.Clear();
        _poolers.Clear();
        _resolvers.Clear();
        _monitors.Clear();
    }
}
