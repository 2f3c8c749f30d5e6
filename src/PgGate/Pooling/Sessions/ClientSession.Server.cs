using System.Buffers;
using System.Text;
using PgGate.Protocol;

namespace PgGate.Pooling.Sessions;

/// <summary>Getting, linking and letting go of servers; what the linked server's read loop tells the client session.</summary>
internal sealed partial class ClientSession
{
    /// <summary>The user the servers of this client log in as: the database entry's fixed user, else the client's.</summary>
    public string LoginUser => Database?.User ?? User;

    /// <summary>A server for the next request: chooses the backend (again after a failover), then waits in that pool's
    /// queue if need be. Null when none can be had; the reason is left in <see cref="_pendingFailure"/>.</summary>
    private async ValueTask<ServerConnection?> AcquireServerAsync()
    {
        var database = Database!;
        var waiter = _waiter ??= new ServerWaiter(this);
        waiter.ContinuesWait = false;
        while (true)
        {
            var choice = Resolver.Resolve(database, User);
            if (choice.Endpoint is { } endpoint)
            {
                var pool = _pool;
                if (pool is null || !ReferenceEquals(pool.Backend, endpoint) || pool.IsRetired)
                {
                    pool = Pooler.GetPool(Resolver, endpoint, DatabaseName, database, LoginUser);
                    _pool = pool;
                }

                var pending = pool.CheckoutAsync(waiter);
                if (!pending.IsCompleted)
                {
                    State = ClientState.Waiting;
                }

                var server = await pending.ConfigureAwait(false);
                if (server is not null)
                {
                    return server;
                }

                if (waiter.Failed)
                {
                    SetAcquireFailure(waiter.FailureSqlState!, waiter.FailureMessage!, waiter.FailureDetail);
                    return null;
                }

                if (_closing)
                {
                    return null;
                }

                // The backend changed while we waited: choose again.
                waiter.ContinuesWait = true;
                continue;
            }

            if (choice.IsWait)
            {
                State = ClientState.Waiting;
                await Pooler.WaitForBackendAsync(waiter).ConfigureAwait(false);
                if (waiter.Failed)
                {
                    SetAcquireFailure(waiter.FailureSqlState!, waiter.FailureMessage! + " (" + choice.Reason + ")", waiter.FailureDetail);
                    return null;
                }

                if (_closing)
                {
                    return null;
                }

                waiter.ContinuesWait = true;
                continue;
            }

            SetAcquireFailure(choice.SqlState!, choice.Reason ?? "no backend serves this database", null);
            return null;
        }
    }

    private void SetAcquireFailure(string sqlState, string message, string? detail)
    {
        lock (Gate)
        {
            _pendingFailure = (sqlState, message, detail);
            if (State == ClientState.Waiting)
            {
                State = ClientState.Idle;
            }
        }
    }

    /// <summary>Links <paramref name="server"/> and brings its session parameters in line with the client's. Under <see cref="Gate"/>.</summary>
    private void Link(ServerConnection server)
    {
        _server = server;
        server.Client = this;
        server.AwaitsFirstClient = false;
        _pool = server.Pool;
        State = ClientState.Active;
        if (!ReferenceEquals(Parameters, server.Parameters))
        {
            SyncParameters(server);
        }
    }

    /// <summary>
    /// Makes the server's settable parameters (client_encoding, DateStyle, TimeZone, application_name, search_path when
    /// reported, ...) equal to the client's with one pipelined SET query, and tells the client the server-owned ones
    /// that differ (in_hot_standby, server_version... after a failover). Nothing of one client reaches another.
    /// </summary>
    private void SyncParameters(ServerConnection server)
    {
        StringBuilder? sets = null;
        ArrayBufferWriter<byte>? reports = null;
        var serverParameters = server.Parameters;
        for (var i = 0; i < serverParameters.Count; i++)
        {
            var name = serverParameters.NameAt(i);
            var serverValue = serverParameters.ValueAt(i);
            var clientValue = Parameters.Get(name);
            if (string.Equals(clientValue, serverValue, StringComparison.Ordinal))
            {
                continue;
            }

            if (clientValue is null || ParameterSet.IsServerOwned(name))
            {
                // The client learns the truth about the server it now uses.
                Parameters = Parameters.With(name, serverValue);
                BackendMessageWriter.WriteParameterStatus(reports ??= new ArrayBufferWriter<byte>(128), name, serverValue);
                continue;
            }

            sets ??= new StringBuilder(64);
            sets.Append("SET ").Append(QuoteIdentifier(name)).Append(" TO ").Append(QuoteLiteral(clientValue)).Append(';');
        }

        if (sets is null && reports is null)
        {
            return;
        }

        // An empty query when only reports are due: its ReadyForQuery carries them to the client in order.
        FrontendMessageWriter.WriteQuery(_toServer, sets?.ToString() ?? string.Empty);
        server.Requests.Enqueue(RequestKind.Query, ResponseAction.Swallow, reports?.WrittenSpan.ToArray());
        ForgetUnnamedOnServer(server);
        _sendingToServer = true;
    }

    private void ForgetUnnamedOnServer(ServerConnection server)
    {
        // Our own simple query destroys the server's unnamed statement, whoever owned it.
        server.UnnamedOwner = null;
    }

    private static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string QuoteLiteral(string value) =>
        value.Contains('\\', StringComparison.Ordinal)
            ? "E'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'"
            : "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>Unlinks the server when the client no longer needs it: transaction (or statement) over, nothing
    /// outstanding, no message half sent. Under <see cref="Gate"/>.</summary>
    internal bool TryUnlink(ServerConnection server)
    {
        if (!ReferenceEquals(_server, server) || (Mode == PoolMode.Session && !_closing))
        {
            return false;
        }

        if (_sendingToServer || !server.Requests.IsEmpty || _extendedOpen || _forwardRemaining > 0
            || server.TransactionStatus != TransactionStatus.Idle || server.IsClosed)
        {
            return false;
        }

        _server = null;
        server.Client = null;
        if (State == ClientState.Active)
        {
            State = ClientState.Idle;
        }

        return true;
    }

    /// <summary>Called by the server's read loop after it sent an answer to the client.</summary>
    internal bool TryUnlinkAfterResponse(ServerConnection server) => !_closing && TryUnlink(server);

    /// <summary>A request ended (under <see cref="Gate"/>): statistics, and the statement-mode rule.</summary>
    internal void OnReadyForQuery(ServerConnection server, TransactionStatus status, bool clientRequest, OutboundBuffer output)
    {
        if (!clientRequest)
        {
            return;
        }

        var now = Pooler.Time.GetTimestamp();
        LastActivityAt = now;
        var stats = server.Pool.Stats;
        if (_requestStartedAt != 0)
        {
            stats.AddQuery(Pooler.ElapsedMicroseconds(_requestStartedAt, now));
            _requestStartedAt = server.Requests.IsEmpty ? 0 : now;
        }

        if (status == TransactionStatus.Idle && _transactionStartedAt != 0)
        {
            stats.AddTransaction(Pooler.ElapsedMicroseconds(_transactionStartedAt, now));
            _transactionStartedAt = 0;
        }

        if (Mode == PoolMode.Statement && status != TransactionStatus.Idle && !_closing)
        {
            // As PgBouncer: statement pooling cannot keep a server across statements, so transactions end the session.
            BackendMessageWriter.WriteErrorResponse(output, ErrorSeverity.Fatal, "25001",
                "transaction blocks are not allowed in statement pooling mode",
                hint: "Use transaction or session pool_mode for this database or user, or run the statements without BEGIN.");
            _closing = true;
            Transport.ShutdownReceive();
        }
    }

    /// <summary>A ParameterStatus from the linked server (under <see cref="Gate"/>); true when the client must see it.</summary>
    internal bool OnServerParameter(string name, string value, bool requestedByClient)
    {
        var known = Parameters.Get(name);
        Parameters = Parameters.With(name, value);
        return requestedByClient || !string.Equals(known, value, StringComparison.Ordinal);
    }

    /// <summary>
    /// The linked server is gone (crash, failover, RECONNECT). Every request still waiting for an answer gets an error
    /// that says so, and ReadyForQuery: the client stays connected, and its next request gets a new server.
    /// </summary>
    internal void OnServerLost(ServerConnection server, string reason)
    {
        byte[]? reply = null;
        bool send;
        lock (Gate)
        {
            if (!ReferenceEquals(_server, server))
            {
                return;
            }

            var syncPoints = server.Requests.CountSyncPoints();
            var inTransaction = server.TransactionStatus != TransactionStatus.Idle;
            server.Requests.Clear();
            _server = null;
            server.Client = null;
            if (State == ClientState.Active)
            {
                State = ClientState.Idle;
            }

            if (_forwardRemaining > 0)
            {
                _forwardDrop = true;
            }

            _sendingToServer = false;
            _requestStartedAt = 0;
            _transactionStartedAt = 0;
            var message = $"server connection lost ({reason}); " +
                (inTransaction ? "the open transaction was lost (rolled back), as happens in a failover or switchover"
                    : syncPoints > 0 ? "the request was interrupted (if it was a commit, check whether it took effect), as happens in a failover or switchover"
                    : "nothing was committed by this request");
            const string Hint = "The connection to PgGate is still usable: retry the transaction; it runs on the server the service routes to now.";
            var writer = new ArrayBufferWriter<byte>(256);
            for (var i = 0; i < syncPoints; i++)
            {
                BackendMessageWriter.WriteErrorResponse(writer, ErrorSeverity.Error, SqlState.ConnectionFailure, message, hint: Hint);
                BackendMessageWriter.WriteReadyForQuery(writer, TransactionStatus.Idle);
            }

            if (_extendedOpen)
            {
                BackendMessageWriter.WriteErrorResponse(writer, ErrorSeverity.Error, SqlState.ConnectionFailure, message, hint: Hint);
                _extendedOpen = false;
                _skipUntilSync = true;
            }
            else if (syncPoints == 0 && inTransaction && !_closing)
            {
                // Idle inside a transaction: the next request learns that the transaction is gone.
                _pendingFailure = (SqlState.ConnectionFailure, message, null);
            }

            if (writer.WrittenCount == 0 || _closing)
            {
                return;
            }

            reply = writer.WrittenSpan.ToArray();
            send = ClaimWriter(reply);
        }

        if (send)
        {
            _ = SendAndDrainAsync(reply).AsTask();
        }
    }
}
