using PgGate.Protocol;
using PgGate.Protocol.Client;

namespace PgGate.Pooling.Sessions;

/// <summary>Cancel requests for this client, which arrive on other connections with the pooler's key.</summary>
internal sealed partial class ClientSession
{
    private static readonly TimeSpan CancelTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Cancels what the client is doing: the query on its linked server (over a new connection with that server's own
    /// key; the server is not handed to anyone else until the cancel has landed, so it cannot hit another client's
    /// query), or its wait in a pool's queue (answered 57014 at once; PgBouncer lets such clients wait on).
    /// </summary>
    internal async Task CancelAsync()
    {
        ServerConnection? server = null;
        ServerWaiter? waiter = null;
        lock (Gate)
        {
            if (_server is { IsClosed: false } linked)
            {
                server = linked;
                Interlocked.Increment(ref linked.CancelsInFlight);
            }
            else if (State == ClientState.Waiting)
            {
                waiter = _waiter;
            }
        }

        if (server is not null)
        {
            CancelInFlight = true;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Pooler.Stopping);
                timeout.CancelAfter(CancelTimeout);
                await PgClient.CancelAsync(server.Backend.Host, server.Backend.Port, server.ProcessId, server.SecretKey, timeout.Token)
                    .ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Pooler.LogCancelFailed(server, e.Message);
            }
            finally
            {
                CancelInFlight = false;
                server.Pool.OnCancelCompleted(server);
            }

            return;
        }

        if (waiter is null)
        {
            return;
        }

        var removed = waiter.Pool is { } pool ? pool.TryRemoveWaiter(waiter) : waiter.WaitsForBackend && Pooler.TryRemoveBackendWaiter(waiter);
        if (removed)
        {
            waiter.Fail(SqlState.QueryCanceled, "canceling statement due to user request",
                "The request was still waiting for a server connection; it was not sent to the server.");
        }
    }
}
