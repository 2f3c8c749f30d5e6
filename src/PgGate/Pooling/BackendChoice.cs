namespace PgGate.Pooling;

/// <summary>What an <see cref="IBackendResolver"/> says for one checkout: use a backend, wait, or refuse.</summary>
public readonly struct BackendChoice
{
    private BackendChoice(BackendEndpoint? endpoint, string? reason, string? sqlState)
    {
        Endpoint = endpoint;
        Reason = reason;
        SqlState = sqlState;
    }

    /// <summary>The backend to use; null when the client must wait or be refused.</summary>
    public BackendEndpoint? Endpoint { get; }

    /// <summary>Why there is no backend (shown to a client whose wait times out, or that is refused).</summary>
    public string? Reason { get; }

    /// <summary>Set when the client is refused; null when it should wait for <see cref="IBackendResolver.Changed"/>.</summary>
    public string? SqlState { get; }

    public bool IsWait => Endpoint is null && SqlState is null;

    public static BackendChoice Use(BackendEndpoint endpoint) => new(endpoint, null, null);

    /// <summary>No backend right now (e.g. no primary during a failover): the client waits, bounded by query_wait_timeout.</summary>
    public static BackendChoice Wait(string reason) => new(null, reason, null);

    public static BackendChoice Refuse(string sqlState, string reason) => new(null, reason, sqlState);
}
