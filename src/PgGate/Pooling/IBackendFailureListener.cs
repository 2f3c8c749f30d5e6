namespace PgGate.Pooling;

/// <summary>
/// Optionally implemented by an <see cref="IBackendResolver"/> that routes by health (a service with <c>dest: pool</c>):
/// the pooler reports a backend it could not reach (refused, timed out, shutting down or starting up) instead of failing
/// the clients waiting for it. The resolver answers <see cref="BackendChoice.Wait"/> for that backend until its health
/// checks have had a chance to catch up, then raises <see cref="IBackendResolver.Changed"/>, so clients that arrive in
/// the gap between a crash and its detection wait for the new server rather than getting an error.
/// </summary>
public interface IBackendFailureListener
{
    void OnBackendUnreachable(BackendEndpoint backend, string reason);
}

/// <summary>
/// Optionally implemented by an <see cref="IBackendResolver"/> that can tell a backend is about to take over (the DCS
/// leader key names a member that Patroni is promoting): the pooler opens server connections to it for the resolver's
/// pools in use, so the first transactions after the promotion find them ready instead of waiting for a new backend.
/// </summary>
public interface IBackendPrewarmSource
{
    /// <summary>Raised (at most once per new key holder) with the backend to open connections to.</summary>
    event EventHandler<BackendEndpoint>? PrewarmRequested;
}
