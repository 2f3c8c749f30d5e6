using PgGate.Config;
using PgGate.Pooling;
using PgGate.Services;

namespace PgGate.Hosting;

/// <summary>
/// The pooler of one node: PgBouncer's role on the node's pooler port (to the node's own PostgreSQL), shared by the
/// node's <c>dest: pool</c> services, each of which has its own front door (resolver), so pools are per service and
/// backend. One per node and pooler configuration (a native file has one; a Pigsty inventory one per cluster).
/// </summary>
public sealed class NodePooler
{
    internal NodePooler(Pooler pooler, PoolerConfig config, MemberConfig? member, IReadOnlyList<PoolerListener> listeners,
        IReadOnlyList<ServiceListener> services)
    {
        Pooler = pooler;
        Config = config;
        Member = member;
        Listeners = listeners;
        Services = services;
    }

    public Pooler Pooler { get; }

    public PoolerConfig Config { get; }

    /// <summary>The member whose PostgreSQL the pooler port serves; null on a node that runs beside no member.</summary>
    public MemberConfig? Member { get; }

    /// <summary>The pooler port(s) (empty when the node has no member or <c>listen: false</c>).</summary>
    public IReadOnlyList<PoolerListener> Listeners { get; }

    /// <summary>The node's services that hand their clients to this pooler.</summary>
    public IReadOnlyList<ServiceListener> Services { get; }
}
