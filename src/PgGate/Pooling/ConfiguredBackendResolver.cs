using System.Collections.Concurrent;

namespace PgGate.Pooling;

/// <summary>
/// The node pooler's resolver: every database entry names its server (PgBouncer's host/port), and a missing host means
/// PostgreSQL's Unix socket directory, as in PgBouncer and Pigsty (<c>host=/var/run/postgresql</c>).
/// </summary>
public sealed class ConfiguredBackendResolver : IBackendResolver
{
    public const string DefaultSocketDirectory = "/var/run/postgresql";

    private readonly ConcurrentDictionary<(string Host, int Port), BackendEndpoint> _endpoints = new();

    public static ConfiguredBackendResolver Instance { get; } = new();

    event EventHandler? IBackendResolver.Changed
    {
        add { }
        remove { }
    }

    public BackendChoice Resolve(PoolerDatabase database, string user) => BackendChoice.Use(EndpointFor(database));

    public bool IsCurrent(BackendEndpoint backend, PoolerDatabase database) => backend.Equals(EndpointFor(database));

    private BackendEndpoint EndpointFor(PoolerDatabase database)
    {
        // One instance per address: sessions recognise "same backend as last time" by reference, without allocating.
        return _endpoints.GetOrAdd((database.Host ?? DefaultSocketDirectory, database.Port), static key => new BackendEndpoint(key.Host, key.Port));
    }
}
