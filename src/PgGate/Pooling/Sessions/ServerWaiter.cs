using System.Threading.Tasks.Sources;

namespace PgGate.Pooling.Sessions;

/// <summary>
/// A client waiting for a server connection, reused for every wait of that client so that queueing allocates nothing.
/// It completes with a server, with null and a failure (timeout, cancel, login error), or with null and no failure,
/// which asks the client to choose its backend again (the resolver changed its mind, e.g. after a failover).
/// Continuations run on the thread that completes it (the one releasing a server), so a released server is taken
/// over without a thread hop, as PgBouncer hands a server from one client to the next in its event loop.
/// </summary>
internal sealed class ServerWaiter : IValueTaskSource<ServerConnection?>
{
    private ManualResetValueTaskSourceCore<ServerConnection?> _core;

    public ServerWaiter(ClientSession client) => Client = client;

    public ClientSession Client { get; }

    /// <summary>The pool whose queue holds the waiter, or null (under the pool's lock).</summary>
    public ServerPool? Pool { get; set; }

    /// <summary>Waiting for the backend resolver rather than for a pool.</summary>
    public bool WaitsForBackend { get; set; }

    public long EnqueuedAt { get; set; }

    public ServerWaiter? Next { get; set; }

    public ServerWaiter? Previous { get; set; }

    public string? FailureSqlState { get; private set; }

    public string? FailureMessage { get; private set; }

    public string? FailureDetail { get; private set; }

    public bool Failed => FailureSqlState is not null;

    /// <summary>Set by the client before it waits again for the same request (its backend changed meanwhile): the wait
    /// keeps its start, so query_wait_timeout bounds the whole wait, not each leg of it.</summary>
    public bool ContinuesWait { get; set; }

    public ValueTask<ServerConnection?> Begin(long now)
    {
        _core.Reset();
        FailureSqlState = null;
        FailureMessage = null;
        FailureDetail = null;
        if (!ContinuesWait || EnqueuedAt == 0)
        {
            EnqueuedAt = now;
        }

        ContinuesWait = false;
        return new ValueTask<ServerConnection?>(this, _core.Version);
    }

    public void Complete(ServerConnection? server) => _core.SetResult(server);

    public void Fail(string sqlState, string message, string? detail = null)
    {
        FailureSqlState = sqlState;
        FailureMessage = message;
        FailureDetail = detail;
        _core.SetResult(null);
    }

    ServerConnection? IValueTaskSource<ServerConnection?>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<ServerConnection?>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<ServerConnection?>.OnCompleted(
        Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
