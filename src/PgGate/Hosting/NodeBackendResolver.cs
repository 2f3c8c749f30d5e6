using System.Collections.Concurrent;
using PgGate.Config;
using PgGate.Pooling;

namespace PgGate.Hosting;

/// <summary>
/// The node pooler's resolver (PgBouncer's role on a Pigsty node): a database entry without a host goes to the node's own
/// member's PostgreSQL (its address and <c>pg_port</c>); an entry with a host goes where it says, as in PgBouncer.
/// </summary>
public sealed class NodeBackendResolver : IBackendResolver
{
    private readonly BackendEndpoint _member;
    private readonly ConcurrentDictionary<(string Host, int Port), BackendEndpoint> _configured = new();

    public NodeBackendResolver(MemberConfig member)
    {
        _member = new BackendEndpoint(member.Host, member.PgPort, member.Name);
    }

    /// <summary>The node's own PostgreSQL.</summary>
    public BackendEndpoint Member => _member;

    event EventHandler? IBackendResolver.Changed
    {
        add { }
        remove { }
    }

    public BackendChoice Resolve(PoolerDatabase database, string user) => BackendChoice.Use(EndpointFor(database));

    public bool IsCurrent(BackendEndpoint backend, PoolerDatabase database) => backend.Equals(EndpointFor(database));

    private BackendEndpoint EndpointFor(PoolerDatabase database) =>
        database.Host is null
            ? _member
            : _configured.GetOrAdd((database.Host, database.Port), static key => new BackendEndpoint(key.Host, key.Port));
}
