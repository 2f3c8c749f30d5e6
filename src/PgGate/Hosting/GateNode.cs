using System.Net;
using PgGate.Cluster;
using PgGate.Failover;
using PgGate.Services;

namespace PgGate.Hosting;

/// <summary>A node's share of the runtime: the clusters it serves and a listener per service.</summary>
public sealed class GateNode
{
    public GateNode(string name, NodeSpec spec, IReadOnlyList<ClusterMonitor> monitors, IReadOnlyList<ServiceListener> listeners, IPEndPoint? adminEndpoint)
    {
        Name = name;
        Spec = spec;
        Monitors = monitors;
        Listeners = listeners;
        AdminEndpoint = adminEndpoint;
    }

    /// <summary>The member name, or the host name for a node that serves every cluster.</summary>
    public string Name { get; }
    public NodeSpec Spec { get; }
    public IReadOnlyList<ClusterMonitor> Monitors { get; }
    public IReadOnlyList<ServiceListener> Listeners { get; }
    public IPEndPoint? AdminEndpoint { get; }

    /// <summary>Switchover pause of each cluster this node serves, by cluster name.</summary>
    public IReadOnlyDictionary<string, ClusterPauseControl> PauseControls { get; init; } = new Dictionary<string, ClusterPauseControl>();

    public ClusterPauseControl? PauseControl(string cluster) => PauseControls.GetValueOrDefault(cluster);

    /// <summary>The node's poolers: its pooler port (PgBouncer's role) and the pool behind its <c>dest: pool</c> services.</summary>
    public IReadOnlyList<NodePooler> Poolers { get; init; } = [];
}
