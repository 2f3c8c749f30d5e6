using PgGate.Pooling.Auth;
using PgGate.Pooling.Statements;
using PgGate.Protocol;
using PgGate.Protocol.Auth;

namespace PgGate.Pooling.Sessions;

/// <summary>
/// The server connections of one (backend, database, user): idle ones (most recently used first, as PgBouncer with
/// server_round_robin = 0), the clients waiting for one (first come, first served), and the rules for opening more
/// (pool_size, reserve_pool, max_db_connections, max_user_connections, server_login_retry). Hand-offs happen under a
/// short lock; completing a waiter happens after it, on the releasing thread.
/// </summary>
internal sealed class ServerPool
{
    private readonly Lock _gate = new();
    private readonly List<ServerConnection> _servers = [];
    private readonly List<ServerConnection> _idle = [];
    private readonly ConnectionLimit _databaseLimit;
    private readonly ConnectionLimit _userLimit;
    private ServerWaiter? _waitHead;
    private ServerWaiter? _waitTail;
    private int _waiting;
    private int _opening;
    private int _active;
    private int _resetting;
    private long _loginFailedAt;
    private ServerLoginException? _loginError;
    private bool _paused;
    private bool _closed;
    private volatile bool _backendRetired;

    /// <param name="stats">The counters of the retired pool this one replaces (same key), so SHOW STATS and /metrics
    /// keep counting instead of starting again at zero (a Prometheus counter must not go down).</param>
    internal ServerPool(Pooler pooler, PoolKey key, PoolerDatabase database, string serverDatabase, ConnectionLimit databaseLimit, ConnectionLimit userLimit,
        PoolStats? stats = null)
    {
        Pooler = pooler;
        Stats = stats ?? new PoolStats();
        Key = key;
        Database = database;
        ServerDatabase = serverDatabase;
        _databaseLimit = databaseLimit;
        _userLimit = userLimit;
        CreatedAt = pooler.Time.GetTimestamp();
    }

    public Pooler Pooler { get; }

    public PoolKey Key { get; }

    public BackendEndpoint Backend => Key.Backend;

    /// <summary>The front door's resolver, which chose <see cref="Backend"/> for this pool's clients.</summary>
    public IBackendResolver Resolver => Key.Resolver;

    /// <summary>Set once the resolver no longer routes this pool's database to <see cref="Backend"/>: the pool serves no one again.</summary>
    public bool IsRetired => _backendRetired;

    /// <summary>The database name clients use (the entry's name, or the requested name for the "*" entry).</summary>
    public string DatabaseName => Key.Database;

    /// <summary>The user servers log in as.</summary>
    public string LoginUser => Key.User;

    /// <summary>The database name on the server.</summary>
    public string ServerDatabase { get; }

    /// <summary>The entry this pool serves; replaced by RELOAD.</summary>
    public PoolerDatabase Database { get; set; }

    public long CreatedAt { get; }

    public PoolStats Stats { get; }

    /// <summary>The parameters of the pool's first server connection: what clients are told at login.</summary>
    public ParameterSet? Welcome { get; private set; }

    /// <summary>SCRAM keys recovered from a client of <see cref="LoginUser"/>, for servers that know only a verifier.</summary>
    public ScramKeys? PassThroughKeys { get; set; }

    /// <summary>The stored secret of <see cref="LoginUser"/> (from the database entry, auth_file or auth_query).</summary>
    public UserSecret? LoginSecret { get; set; }

    private PoolerSettings Settings => Pooler.Settings;

    private int PoolSize => Database.PoolSize ?? Settings.DefaultPoolSize;

    private int ReserveSize => Database.ReservePool ?? Settings.ReservePoolSize;

    private int MinPoolSize => Database.MinPoolSize ?? Settings.MinPoolSize;

    private int MaxDatabaseConnections => Database.MaxDbConnections ?? Settings.MaxDbConnections;

    private int MaxUserConnections => Pooler.Settings.FindUser(LoginUser)?.MaxUserConnections ?? Settings.MaxUserConnections;

    public bool IsPaused
    {
        get
        {
            lock (_gate)
            {
                return _paused;
            }
        }
    }

    /// <summary>
    /// A server for <paramref name="waiter"/>'s client: an idle one at once, or a pending wait (opening a connection
    /// when the pool may grow). Never blocks.
    /// </summary>
    public ValueTask<ServerConnection?> CheckoutAsync(ServerWaiter waiter)
    {
        var now = Pooler.Time.GetTimestamp();
        List<ServerConnection>? stale = null;
        ValueTask<ServerConnection?> result;
        int launch;
        lock (_gate)
        {
            if (_closed)
            {
                return ValueTask.FromResult<ServerConnection?>(null);
            }

            if (!_paused)
            {
                while (_idle.Count > 0)
                {
                    var server = _idle[^1];
                    _idle.RemoveAt(_idle.Count - 1);
                    if (IsReusable(server, now))
                    {
                        server.State = ServerConnectionState.Active;
                        _active++;
                        CloseStale(stale);
                        return ValueTask.FromResult<ServerConnection?>(server);
                    }

                    (stale ??= []).Add(server);
                }
            }

            // Nothing idle. A pool whose logins keep failing answers at once rather than after query_wait_timeout.
            if (_servers.Count + _opening == 0 && _loginError is { } error && InLoginBackoff(now))
            {
                var failed = waiter.Begin(now);
                waiter.Fail(error.SqlState, LoginFailedMessage(error), error.Fields?.Detail);
                CloseStale(stale);
                return failed;
            }

            result = waiter.Begin(now);
            Enqueue(waiter);
            launch = PlanLaunchesLocked(now, allowReserve: false);
        }

        CloseStale(stale);
        Launch(launch);
        return result;
    }

    private string LoginFailedMessage(ServerLoginException error) =>
        $"server login has been failing, try again later (server_login_retry): {error.Message}";

    /// <summary>Takes a waiter out of the queue (client gone, cancelled). False when it was not queued here.</summary>
    public bool TryRemoveWaiter(ServerWaiter waiter)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(waiter.Pool, this))
            {
                return false;
            }

            Unlink(waiter);
            return true;
        }
    }

    /// <summary>A client is done with <paramref name="server"/>. Decides whether it can be reused, must be cleaned
    /// first (<paramref name="rollback"/>, the reset query), or closed.</summary>
    public void Release(ServerConnection server, ClientSession? client, string? rollback = null)
    {
        var now = Pooler.Time.GetTimestamp();
        server.LastUsedAt = now;
        var mode = client?.Mode ?? PoolMode.Transaction;
        var resetQuery = mode == PoolMode.Session || Settings.ServerResetQueryAlways ? Settings.ServerResetQuery : null;
        if (string.IsNullOrWhiteSpace(resetQuery))
        {
            resetQuery = null;
        }

        if (!server.IsClosed && !server.CloseNeeded && (rollback is not null || resetQuery is not null))
        {
            lock (_gate)
            {
                _active--;
                _resetting++;
                server.State = ServerConnectionState.Resetting;
            }

            _ = ResetAsync(server, rollback, resetQuery);
            return;
        }

        lock (_gate)
        {
            _active--;
        }

        ReturnToPool(server, now);
    }

    /// <summary>Called by a resetting server's read loop once the reset queries are answered.</summary>
    public void FinishReset(ServerConnection server)
    {
        lock (_gate)
        {
            if (server.State != ServerConnectionState.Resetting)
            {
                return;
            }

            _resetting--;
        }

        ReturnToPool(server, Pooler.Time.GetTimestamp());
    }

    private async Task ResetAsync(ServerConnection server, string? rollback, string? resetQuery)
    {
        var output = new OutboundBuffer();
        if (rollback is not null)
        {
            FrontendMessageWriter.WriteQuery(output, rollback);
            server.Requests.Enqueue(RequestKind.Query, ResponseAction.Swallow);
        }

        if (resetQuery is not null)
        {
            FrontendMessageWriter.WriteQuery(output, resetQuery);
            server.Requests.Enqueue(RequestKind.Query, ResponseAction.Swallow);
        }

        try
        {
            if (!await server.SendAsync(output.GetWritten()).ConfigureAwait(false))
            {
                return;
            }
        }
        finally
        {
            output.Reset();
        }
    }

    /// <summary>Hands a clean server to the first waiter, or makes it idle, or closes it when it must not be reused.</summary>
    private void ReturnToPool(ServerConnection server, long now)
    {
        ServerWaiter? waiter = null;
        var close = false;
        string reason = "";
        int launch = 0;
        lock (_gate)
        {
            if (server.IsClosed)
            {
                return;
            }

            if (server.CancelsInFlight > 0)
            {
                // Park it until its cancel has landed; see ServerConnection.CancelsInFlight.
                server.ReleaseAfterCancel = true;
                server.State = ServerConnectionState.Resetting;
                _resetting++;
                return;
            }

            if (!IsReusable(server, now) || (_paused && !server.AwaitsFirstClient))
            {
                // A paused pool keeps no connections: PAUSE is for taking the server away. Except those opened to the
                // backend a switchover is moving to, while the switchover holds clients paused: they are for after it.
                close = true;
                reason = _paused ? "PAUSE" : CloseReasonFor(server, now);
                launch = PlanLaunchesLocked(now, allowReserve: false);
            }
            else if (!_paused && _waitHead is { } first)
            {
                waiter = first;
                Unlink(first);
                server.State = ServerConnectionState.Active;
                _active++;
                Stats.AddWait(Pooler.ElapsedMicroseconds(first.EnqueuedAt, now));
            }
            else
            {
                server.State = ServerConnectionState.Idle;
                _idle.Add(server);
            }
        }

        if (close)
        {
            server.Close(reason);
            Launch(launch);
            return;
        }

        waiter?.Complete(server);
    }

    /// <summary>A cancel request for <paramref name="server"/> completed: release it now if its client already did.</summary>
    public void OnCancelCompleted(ServerConnection server)
    {
        if (Interlocked.Decrement(ref server.CancelsInFlight) > 0)
        {
            return;
        }

        bool parked;
        lock (_gate)
        {
            parked = server.ReleaseAfterCancel && server.State == ServerConnectionState.Resetting;
            if (parked)
            {
                server.ReleaseAfterCancel = false;
                _resetting--;
            }
        }

        if (parked)
        {
            ReturnToPool(server, Pooler.Time.GetTimestamp());
        }
    }

    /// <summary>The server's read loop ended: forget the connection.</summary>
    public void Remove(ServerConnection server, string reason)
    {
        int launch;
        lock (_gate)
        {
            if (server.PoolIndex < 0)
            {
                return;
            }

            var last = _servers[^1];
            _servers[server.PoolIndex] = last;
            last.PoolIndex = server.PoolIndex;
            _servers.RemoveAt(_servers.Count - 1);
            server.PoolIndex = -1;
            _idle.Remove(server);
            switch (server.State)
            {
                case ServerConnectionState.Active:
                    _active--;
                    break;
                case ServerConnectionState.Resetting:
                    _resetting--;
                    break;
            }

            server.State = ServerConnectionState.Closed;
            launch = PlanLaunchesLocked(Pooler.Time.GetTimestamp(), allowReserve: false);
        }

        _databaseLimit.Release();
        _userLimit.Release();
        Pooler.OnServerClosed(this, server, reason);
        Launch(launch);
    }

    /// <summary>Periodic work (PgBouncer's janitor): wait timeouts, the reserve pool, min_pool_size, idle and lifetime limits.</summary>
    public void Maintain(long now)
    {
        List<ServerWaiter>? timedOut = null;
        List<ServerConnection>? stale = null;
        int launch;
        lock (_gate)
        {
            var waitLimit = Settings.QueryWaitTimeout;
            if (waitLimit > TimeSpan.Zero)
            {
                while (_waitHead is { } oldest && Pooler.Time.GetElapsedTime(oldest.EnqueuedAt, now) >= waitLimit)
                {
                    Unlink(oldest);
                    (timedOut ??= []).Add(oldest);
                }
            }

            // Idle connections past server_idle_timeout or server_lifetime, keeping min_pool_size of them.
            for (var i = 0; i < _idle.Count; i++)
            {
                var server = _idle[i];
                var tooIdle = Settings.ServerIdleTimeout > TimeSpan.Zero
                    && Pooler.Time.GetElapsedTime(server.LastUsedAt, now) >= Settings.ServerIdleTimeout
                    && _servers.Count - (stale?.Count ?? 0) > MinPoolSize;
                if (tooIdle || !IsReusable(server, now))
                {
                    _idle.RemoveAt(i--);
                    (stale ??= []).Add(server);
                }
            }

            var reserveDue = _waitHead is { } head && ReserveSize > 0
                && Pooler.Time.GetElapsedTime(head.EnqueuedAt, now) >= Settings.ReservePoolTimeout;
            launch = PlanLaunchesLocked(now, reserveDue);

            // min_pool_size: keep connections open for a pool that has been used.
            if (!_paused && !_closed && !InLoginBackoff(now))
            {
                launch += ReserveOpeningsUpToLocked(MinPoolSize);
            }
        }

        if (stale is not null)
        {
            foreach (var server in stale)
            {
                server.Close(CloseReasonFor(server, now));
            }
        }

        if (timedOut is not null)
        {
            var seconds = Settings.QueryWaitTimeout.TotalSeconds;
            foreach (var waiter in timedOut)
            {
                // 57014 like statement_timeout: drivers keep the connection (Npgsql drops it on 08P01, PgBouncer's code).
                waiter.Fail(SqlState.QueryCanceled,
                    $"query_wait_timeout: no server connection of pool {DatabaseName}/{LoginUser} at {Backend} became free within {seconds:0.###} s",
                    "The pool is at its size limit and every connection is busy, or the server cannot be reached. " +
                    "Raise pool_size or query_wait_timeout, or look for long transactions.");
            }
        }

        Launch(launch);
    }

    public void Pause()
    {
        List<ServerConnection> idle;
        lock (_gate)
        {
            _paused = true;
            idle = [.. _idle];
            _idle.Clear();
        }

        foreach (var server in idle)
        {
            server.Close("PAUSE");
        }
    }

    public void Resume()
    {
        int launch;
        var handoffs = new List<(ServerWaiter, ServerConnection)>();
        lock (_gate)
        {
            _paused = false;
            var now = Pooler.Time.GetTimestamp();
            while (_waitHead is { } waiter && _idle.Count > 0)
            {
                var server = _idle[^1];
                _idle.RemoveAt(_idle.Count - 1);
                Unlink(waiter);
                server.State = ServerConnectionState.Active;
                _active++;
                handoffs.Add((waiter, server));
            }

            launch = PlanLaunchesLocked(now, allowReserve: false);
        }

        foreach (var (waiter, server) in handoffs)
        {
            waiter.Complete(server);
        }

        Launch(launch);
    }

    /// <summary>True once every server connection has been released and closed: what PAUSE waits for.</summary>
    public bool HasNoServers
    {
        get
        {
            lock (_gate)
            {
                return _servers.Count == 0 && _opening == 0;
            }
        }
    }

    /// <summary>Marks every connection for closing: idle ones close now, busy ones when released (RECONNECT, RELOAD of the entry).</summary>
    public void CloseAllWhenReleased(string reason)
    {
        List<ServerConnection> idle;
        lock (_gate)
        {
            foreach (var server in _servers)
            {
                server.CloseNeeded = true;
            }

            idle = [.. _idle];
            _idle.Clear();
        }

        foreach (var server in idle)
        {
            server.Close(reason);
        }
    }

    /// <summary>
    /// A retired backend must not finish transactions that are open on it (the service moved on, e.g. to a new primary):
    /// such connections close now and their clients get one error saying the transaction was lost, and keep their
    /// connection to PgGate. A request running outside a transaction completes; its server closes when released.
    /// </summary>
    private void CloseInTransaction(string reason)
    {
        List<ServerConnection>? doomed = null;
        lock (_gate)
        {
            foreach (var server in _servers)
            {
                if (server.State == ServerConnectionState.Active && server.TransactionStatus != TransactionStatus.Idle)
                {
                    (doomed ??= []).Add(server);
                }
            }
        }

        if (doomed is not null)
        {
            foreach (var server in doomed)
            {
                server.Close(reason);
            }
        }
    }

    /// <summary>Closes every connection now and fails every waiter (KILL, SHUTDOWN).</summary>
    public void CloseAll(string reason, bool closePool)
    {
        List<ServerConnection> servers;
        List<ServerWaiter> waiters = [];
        lock (_gate)
        {
            _closed |= closePool;
            servers = [.. _servers];
            _idle.Clear();
            while (_waitHead is { } waiter)
            {
                Unlink(waiter);
                waiters.Add(waiter);
            }
        }

        foreach (var server in servers)
        {
            server.Close(reason);
        }

        foreach (var waiter in waiters)
        {
            waiter.Fail(SqlState.AdminShutdown, reason);
        }
    }

    /// <summary>Idle connections whose backend is no longer current close; busy ones close when released.</summary>
    public void RetireIfBackendStale()
    {
        if (!_backendRetired && !Resolver.IsCurrent(Backend, Database))
        {
            Retire($"{Backend.Name ?? Backend.ToString()} no longer serves this database: failover or switchover");
        }
    }

    /// <summary>The pool serves no one again: connections close (busy ones when released), waiters choose their backend again.</summary>
    public void Retire(string reason)
    {
        _backendRetired = true;
        CloseAllWhenReleased(reason);
        CloseInTransaction(reason);
        List<ServerWaiter> waiters = [];
        lock (_gate)
        {
            while (_waitHead is { } waiter)
            {
                Unlink(waiter);
                waiters.Add(waiter);
            }
        }

        foreach (var waiter in waiters)
        {
            waiter.Complete(null);
        }
    }

    /// <summary>RELOAD changed sizes or limits: bound the prepared-statement caches anew; open connections if now allowed.</summary>
    public void ApplySettings()
    {
        var capacity = Settings.MaxPreparedStatements;
        lock (_gate)
        {
            foreach (var server in _servers)
            {
                if (server.Statements is { } cache && capacity > 0)
                {
                    cache.Capacity = capacity;
                }
            }
        }
    }

    public PoolSnapshot Snapshot(long now)
    {
        lock (_gate)
        {
            var maxWait = _waitHead is { } head ? Pooler.Time.GetElapsedTime(head.EnqueuedAt, now) : TimeSpan.Zero;
            return new PoolSnapshot(
                _active, _idle.Count, _resetting, _opening, _waiting, maxWait, _paused, _servers.Count);
        }
    }

    public void CopyServers(List<ServerConnection> into)
    {
        lock (_gate)
        {
            into.AddRange(_servers);
        }
    }

    internal readonly record struct PoolSnapshot(
        int Active, int Idle, int Used, int Login, int Waiting, TimeSpan MaxWait, bool Paused, int Total);

    private bool IsReusable(ServerConnection server, long now)
    {
        if (server.IsClosed || server.CloseNeeded || _closed)
        {
            return false;
        }

        var lifetime = Settings.ServerLifetime;
        if (lifetime > TimeSpan.Zero && Pooler.Time.GetElapsedTime(server.ConnectedAt, now) >= lifetime)
        {
            return false;
        }

        if (Welcome is { } welcome && !ReferenceEquals(server.Parameters, welcome)
            && !SameIdentity(server.Parameters, welcome))
        {
            // SET SESSION AUTHORIZATION or SET ROLE-like changes must never reach the next client.
            return false;
        }

        return !_backendRetired;
    }

    private static bool SameIdentity(ParameterSet current, ParameterSet welcome) =>
        string.Equals(current.Get("session_authorization"), welcome.Get("session_authorization"), StringComparison.Ordinal)
        && string.Equals(current.Get("is_superuser"), welcome.Get("is_superuser"), StringComparison.Ordinal);

    private string CloseReasonFor(ServerConnection server, long now)
    {
        if (_closed)
        {
            return "the pool is closing";
        }

        if (server.CloseNeeded)
        {
            return "marked for closing (RECONNECT, RELOAD or an unclean session)";
        }

        var lifetime = Settings.ServerLifetime;
        if (lifetime > TimeSpan.Zero && Pooler.Time.GetElapsedTime(server.ConnectedAt, now) >= lifetime)
        {
            return "server_lifetime reached";
        }

        if (Settings.ServerIdleTimeout > TimeSpan.Zero && Pooler.Time.GetElapsedTime(server.LastUsedAt, now) >= Settings.ServerIdleTimeout)
        {
            return "server_idle_timeout reached";
        }

        if (Welcome is { } welcome && !SameIdentity(server.Parameters, welcome))
        {
            return "the session changed its authorization";
        }

        return "its backend no longer serves this database";
    }

    private void CloseStale(List<ServerConnection>? stale)
    {
        if (stale is null)
        {
            return;
        }

        var now = Pooler.Time.GetTimestamp();
        foreach (var server in stale)
        {
            server.Close(CloseReasonFor(server, now));
        }
    }

    private bool InLoginBackoff(long now) =>
        _loginError is not null && Pooler.Time.GetElapsedTime(_loginFailedAt, now) < Settings.ServerLoginRetry;

    /// <summary>How many connections to open for the waiters not yet covered, within every limit. Takes the limit slots.</summary>
    private int PlanLaunchesLocked(long now, bool allowReserve)
    {
        if (_paused || _closed || _waiting <= _opening || InLoginBackoff(now))
        {
            return 0;
        }

        var cap = PoolSize + (allowReserve ? ReserveSize : 0);
        var launch = 0;
        while (_waiting > _opening + launch && _servers.Count + _opening + launch < cap)
        {
            if (!TryAcquireLimits())
            {
                Pooler.RequestEviction(this);
                break;
            }

            launch++;
        }

        _opening += launch;
        return launch;
    }

    /// <summary>Under the lock: counts as opening, and takes the limit slots of, as many new connections as bring the
    /// pool to <paramref name="total"/> (open and opening), within pool_size and the database and user limits.</summary>
    private int ReserveOpeningsUpToLocked(int total)
    {
        var cap = Math.Min(total, PoolSize);
        var launch = 0;
        while (_servers.Count + _opening + launch < cap && TryAcquireLimits())
        {
            launch++;
        }

        _opening += launch;
        return launch;
    }

    private bool TryAcquireLimits()
    {
        if (!_databaseLimit.TryAcquire(MaxDatabaseConnections))
        {
            return false;
        }

        if (!_userLimit.TryAcquire(MaxUserConnections))
        {
            _databaseLimit.Release();
            return false;
        }

        return true;
    }

    /// <summary>Closes one idle connection to make room for another pool of the same database or user.</summary>
    public bool TryEvictIdle()
    {
        ServerConnection? victim = null;
        lock (_gate)
        {
            if (_idle.Count > 0)
            {
                victim = _idle[0];
                _idle.RemoveAt(0);
            }
        }

        victim?.Close("evicted to make room under max_db_connections / max_user_connections");
        return victim is not null;
    }

    public bool HasWaiters
    {
        get
        {
            lock (_gate)
            {
                return _waiting > 0;
            }
        }
    }

    private void Launch(int count)
    {
        for (var i = 0; i < count; i++)
        {
            _ = OpenServerAsync(prewarm: false);
        }
    }

    /// <summary>The pool's welcome parameters, taken from <paramref name="parameters"/> (a checked-out server's) when no
    /// connection set them yet (a pool whose connections were all prewarmed).</summary>
    internal ParameterSet AdoptWelcome(ParameterSet parameters)
    {
        lock (_gate)
        {
            return Welcome ??= parameters;
        }
    }

    /// <summary>The most server connections this pool has had at once: how many a failover's new backend will want.</summary>
    public int PeakServers { get; private set; }

    /// <summary>
    /// Opens server connections up to <paramref name="count"/> (within pool_size and the database and user limits) before
    /// any client asks, for a backend about to take over (see <see cref="IBackendPrewarmSource"/>). Returns how many it started.
    /// </summary>
    public int Prewarm(int count)
    {
        int launch;
        lock (_gate)
        {
            // A paused pool prewarms too: a switchover pauses every pool, and the new primary's connections are for
            // the moment it resumes.
            if (_closed || _backendRetired || InLoginBackoff(Pooler.Time.GetTimestamp()))
            {
                return 0;
            }

            launch = ReserveOpeningsUpToLocked(count);
        }

        for (var i = 0; i < launch; i++)
        {
            _ = OpenServerAsync(prewarm: true);
        }

        return launch;
    }

    private async Task OpenServerAsync(bool prewarm)
    {
        ServerConnection server;
        try
        {
            var credentials = Pooler.CredentialsFor(this);
            server = await ServerConnection.OpenAsync(
                this, Backend, ServerDatabase, credentials, Settings.ServerConnectTimeout, Pooler.Time, Pooler.Stopping).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var error = e as ServerLoginException ?? new ServerLoginException("could not open a server connection: " + e.Message, null, e);
            if (prewarm)
            {
                OnPrewarmFailed(error);
            }
            else
            {
                OnLoginFailed(error);
            }

            return;
        }

        if (Settings.MaxPreparedStatements > 0)
        {
            server.Statements = new ServerStatementCache(Settings.MaxPreparedStatements);
        }

        lock (_gate)
        {
            _opening--;
            _loginError = null;
            server.PoolIndex = _servers.Count;
            _servers.Add(server);
            PeakServers = Math.Max(PeakServers, _servers.Count);
            if (prewarm)
            {
                server.AwaitsFirstClient = true;

                // Opened while the member was still in recovery. It is handed out only once the resolver routes here,
                // i.e. once the member's PostgreSQL reported itself primary; PostgreSQL itself reports the change only
                // at the connection's next query, and clients must not be told "in_hot_standby = on" meanwhile. Nor
                // does it make the pool's welcome parameters for new clients.
                if (server.Parameters.Get("in_hot_standby") == "on")
                {
                    server.Parameters = server.Parameters.With("in_hot_standby", "off");
                }
            }
            else
            {
                Welcome ??= server.Parameters;
            }

            server.State = ServerConnectionState.Idle;
        }

        Pooler.OnServerOpened(this, server);
        _ = server.RunAsync();
        ReturnToPool(server, Pooler.Time.GetTimestamp());
    }

    /// <summary>A prewarm connection failed: nobody waited for it, so no back-off and no "unreachable" mark that would
    /// hold off the clients once the backend is routed to; any waiters that came meanwhile get launches of their own.</summary>
    private void OnPrewarmFailed(ServerLoginException error)
    {
        Stats.AddServerLoginFailure();
        _databaseLimit.Release();
        _userLimit.Release();
        int launch;
        lock (_gate)
        {
            _opening--;
            launch = PlanLaunchesLocked(Pooler.Time.GetTimestamp(), allowReserve: false);
        }

        Pooler.OnServerLoginFailed(this, error);
        Launch(launch);
    }

    private void OnLoginFailed(ServerLoginException error)
    {
        Stats.AddServerLoginFailure();
        _databaseLimit.Release();
        _userLimit.Release();
        if (Resolver is IBackendFailureListener listener && IsUnreachable(error))
        {
            OnBackendUnreachable(listener, error);
            return;
        }

        List<ServerWaiter>? failed = null;
        lock (_gate)
        {
            _opening--;
            _loginError = error;
            _loginFailedAt = Pooler.Time.GetTimestamp();

            // With nothing else that could serve them, waiters learn now instead of after query_wait_timeout.
            if (_servers.Count + _opening == 0)
            {
                while (_waitHead is { } waiter)
                {
                    Unlink(waiter);
                    (failed ??= []).Add(waiter);
                }
            }
        }

        Pooler.OnServerLoginFailed(this, error);
        if (failed is not null)
        {
            foreach (var waiter in failed)
            {
                waiter.Fail(error.SqlState, error.Message, error.Fields?.Detail);
            }
        }
    }

    /// <summary>The server could not be reached at all (not a refused login): a failover may be under way.</summary>
    private static bool IsUnreachable(ServerLoginException error) =>
        error.Fields is null || error.SqlState is SqlState.AdminShutdown or "57P02" or SqlState.CannotConnectNow;

    /// <summary>A health-routed backend is unreachable: its waiters choose their backend again (and wait, bounded by
    /// query_wait_timeout, while the resolver has none) rather than failing; no login back-off is kept for it.</summary>
    private void OnBackendUnreachable(IBackendFailureListener listener, ServerLoginException error)
    {
        List<ServerWaiter>? retry = null;
        lock (_gate)
        {
            _opening--;
            if (_servers.Count + _opening == 0)
            {
                while (_waitHead is { } waiter)
                {
                    Unlink(waiter);
                    (retry ??= []).Add(waiter);
                }
            }
        }

        Pooler.OnServerLoginFailed(this, error);
        listener.OnBackendUnreachable(Backend, error.Message);
        if (retry is not null)
        {
            foreach (var waiter in retry)
            {
                waiter.Complete(null);
            }
        }
    }

    private void Enqueue(ServerWaiter waiter)
    {
        waiter.Pool = this;
        waiter.Next = null;
        waiter.Previous = _waitTail;
        if (_waitTail is null)
        {
            _waitHead = waiter;
        }
        else
        {
            _waitTail.Next = waiter;
        }

        _waitTail = waiter;
        _waiting++;
    }

    private void Unlink(ServerWaiter waiter)
    {
        if (waiter.Previous is null)
        {
            _waitHead = waiter.Next;
        }
        else
        {
            waiter.Previous.Next = waiter.Next;
        }

        if (waiter.Next is null)
        {
            _waitTail = waiter.Previous;
        }
        else
        {
            waiter.Next.Previous = waiter.Previous;
        }

        waiter.Next = null;
        waiter.Previous = null;
        waiter.Pool = null;
        _waiting--;
    }
}
