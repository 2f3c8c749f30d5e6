using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PgGate.Admin;
using PgGate.Cluster;
using PgGate.Cluster.Dcs;
using PgGate.Config;
using PgGate.Failover;
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
                foreach (var cluster in clusters)
                {
                    var monitor = monitorsByCluster[cluster.Name];
                    nodeMonitors.Add(monitor);
                    foreach (var service in cluster.Services)
                    {
                        var router = new ServiceRouter(cluster, service, _time, _loggers.CreateLogger<ServiceRouter>(),
                            node: NodeSpecs.Count > 1 ? name : null);
                        router.Apply(monitor.Current);
                        monitor.ViewChanged += router.Apply;
                        var endpoint = new IPEndPoint(ListenSockets.ParseBindAddress(spec.BindAddress ?? service.Ip), service.Port);
                        var listener = new ServiceListener(router, endpoint, _loggers.CreateLogger<ServiceListener>());
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
                _nodes.Add(new GateNode(name, spec, nodeMonitors, nodeListeners, AdminEndpointFor(spec))
                {
                    PauseControls = PauseControlsFor(name, nodeMonitors, nodeListeners),
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

    // A switchover pauses the services that send writes (leader checks); reads go on through it.
    private Dictionary<string, ClusterPauseControl> PauseControlsFor(string node, List<ClusterMonitor> monitors, List<ServiceListener> listeners)
    {
        var controls = new Dictionary<string, ClusterPauseControl>(StringComparer.Ordinal);
        foreach (var monitor in monitors)
        {
            var participants = new List<IPauseParticipant>();
            foreach (var l in listeners)
            {
                if (l.Router.Cluster.Name == monitor.Config.Name && CheckSpec.For(l.Router.Service).Path.IsLeaderPath)
                    participants.Add(new RouterPauseParticipant(l));
            }
            controls[monitor.Config.Name] = new ClusterPauseControl(node, monitor, participants, _time);
        }
        return controls;
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
        foreach (var w in _watches)
            await w.DisposeAsync().ConfigureAwait(false);
        foreach (var m in _monitors)
            await m.DisposeAsync().ConfigureAwait(false);
        _watches.Clear();
        _listeners.Clear();
        _monitors.Clear();
    }
}
