namespace PgGate.Pooling.Sessions;

/// <summary>
/// What a pool is for: the resolver (front door) that chose the backend, the backend, the database name clients asked
/// for, and the user the servers log in as. Pools of different front doors are separate, so each knows the one
/// resolver that decides whether its backend still serves.
/// </summary>
internal readonly record struct PoolKey(IBackendResolver Resolver, BackendEndpoint Backend, string Database, string User);
