namespace PgGate.Pooling;

/// <summary>
/// Chooses the PostgreSQL server for a checkout. The node pooler uses the database entry's host and port
/// (<see cref="ConfiguredBackendResolver"/>); a service with <c>dest: pool</c> plugs in its router, so that in transaction
/// and statement mode every checkout lands on the member the service routes to now (after a failover, the new primary).
/// Implementations are called on the hot path: no blocking, no I/O.
/// </summary>
public interface IBackendResolver
{
    /// <summary>The backend for the next server connection of a client of <paramref name="database"/> logged in as
    /// <paramref name="user"/>. Called once per checkout in transaction and statement mode, once per session in session mode.</summary>
    BackendChoice Resolve(PoolerDatabase database, string user);

    /// <summary>False once <paramref name="backend"/> may no longer serve <paramref name="database"/> (it left the service):
    /// its idle server connections are closed and busy ones are closed when released, never handed out again.</summary>
    bool IsCurrent(BackendEndpoint backend, PoolerDatabase database);

    /// <summary>Raised when choices may have changed; clients waiting for a backend re-resolve, stale connections close.</summary>
    event EventHandler? Changed;

    /// <summary>The front door's name in pool listings (<see cref="PoolInfo.FrontDoor"/>): a service such as
    /// <c>pg-test-primary</c>; null for the pooler's own port.</summary>
    string? Name => null;
}
