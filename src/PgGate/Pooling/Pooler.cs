using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PgGate.Pooling.Auth;
using PgGate.Pooling.Sessions;
using PgGate.Pooling.Statements;
using PgGate.Protocol;
using PgGate.Protocol.Auth;

namespace PgGate.Pooling;

/// <summary>
/// PgGate's connection pooler (PgBouncer's role). Clients connect to it as to PostgreSQL (through a
/// <see cref="PoolerListener"/> on the pooler port, or handed over by a service with <c>dest: pool</c> through
/// <see cref="ServeClientAsync"/>); it authenticates them and lends them server connections from pools per
/// (front door, backend, database, user), in session, transaction or statement mode. Everything the admin console,
/// /metrics and the status page show comes from here (<see cref="GetPools"/>, <see cref="GetClients"/>,
/// <see cref="GetServers"/>), and so do PAUSE, RESUME, RECONNECT, KILL, RELOAD and SHUTDOWN.
/// </summary>
public sealed partial class Pooler : IAsyncDisposable
{
    private static readonly TimeSpan JanitorInterval = TimeSpan.FromMilliseconds(200);

    private readonly IBackendResolver _defaultResolver;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<PoolKey, ServerPool> _pools = new();
    private readonly ConcurrentDictionary<(BackendEndpoint, string), ConnectionLimit> _databaseLimits = new();
    private readonly ConcurrentDictionary<(BackendEndpoint, string), ConnectionLimit> _userLimits = new();
    private readonly ConcurrentDictionary<int, ClientSession> _clients = new();
    private readonly ConcurrentDictionary<string, ScramKeys> _scramKeys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, UserSecret> _queriedSecrets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(BackendEndpoint, string), AuthQueryClient> _authQueries = new();
    private readonly ConcurrentDictionary<IBackendResolver, bool> _subscribedResolvers = new();
    private readonly ConcurrentQueue<ServerPool> _evictionRequests = new();
    private readonly HashSet<string> _pausedDatabases = new(StringComparer.Ordinal);
    private readonly HashSet<string> _disabledDatabases = new(StringComparer.Ordinal);
    private readonly List<PoolPauseScope> _pauseScopes = [];
    private readonly List<ServerWaiter> _backendWaiters = [];
    private readonly Lock _gate = new();
    private readonly long _startTimestamp;
    private readonly DateTimeOffset _startTime;
    private volatile PoolerSettings _settings;
    private volatile UserList _users;
    private volatile HbaFile? _hba;
    private volatile ClientTlsContext? _tls;
    private volatile bool _pausedAll;
    private readonly Task? _janitor;
    private int _clientCount;
    private long _logins;
    private long _authFailures;
    private long _protocolErrors;

    /// <summary>Creates a pooler and loads the files its settings name (auth_file, auth_hba_file, TLS PEM files).</summary>
    /// <param name="resolver">How backends are chosen for clients that come through <see cref="ServeClientAsync"/> without
    /// a resolver of their own; by default the database entry's host and port.</param>
    /// <exception cref="PoolerConfigurationException">A file is missing or malformed; the message names it.</exception>
    public Pooler(PoolerSettings settings, ILogger? logger = null, TimeProvider? time = null, IBackendResolver? resolver = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _logger = logger ?? NullLogger.Instance;
        Time = time ?? TimeProvider.System;
        _defaultResolver = resolver ?? ConfiguredBackendResolver.Instance;
        _startTimestamp = Time.GetTimestamp();
        _startTime = Time.GetUtcNow();
        (_users, _hba, _tls) = LoadFiles(settings);
        _janitor = RunJanitorAsync();
    }

    public PoolerSettings Settings => _settings;

    /// <summary>The resolver of clients that come through the pooler's own port (not a service's front door).</summary>
    internal IBackendResolver DefaultResolver => _defaultResolver;

    public TimeProvider Time { get; }

    /// <summary>Clients connected, including those still logging in (what max_client_conn limits).</summary>
    public int ClientCount => Volatile.Read(ref _clientCount);

    /// <summary>Successful client logins since start.</summary>
    public long Logins => Interlocked.Read(ref _logins);

    /// <summary>Client authentications that failed (wrong password, unknown user, HBA rejection) since start.</summary>
    public long AuthenticationFailures => Interlocked.Read(ref _authFailures);

    /// <summary>Clients dropped for breaking the protocol (bad startup packets, bad message types or lengths) since start.</summary>
    public long ProtocolErrors => Interlocked.Read(ref _protocolErrors);

    /// <summary>Distinct protocol-level prepared statements the pooler tracks across all clients.</summary>
    public int PreparedStatementCount => Statements.Count;

    internal CancellationToken Stopping => _stopping.Token;

    internal StatementRegistry Statements { get; } = new();

    internal PoolStats UnpooledStats { get; } = new();

    internal HbaFile? Hba => _hba;

    internal ClientTlsContext? Tls => _tls;

    /// <summary>A per-process secret for mock SCRAM exchanges with unknown users (stable salts, no user enumeration).</summary>
    internal byte[] MockSecret { get; } = RandomNumberGenerator.GetBytes(32);

    /// <summary>
    /// Serves one client connection to the end: login, then its requests. Services with <c>dest: pool</c> call this
    /// with their own <paramref name="resolver"/>, so that each checkout goes to the member they route to now. The socket
    /// is disposed when the session ends. Never throws for client or server errors. The socket is expected to come from
    /// a listener made by <see cref="PgGate.Services.ListenSockets.Bind"/>, whose TCP_NODELAY and keepalive it inherits.
    /// </summary>
    public async Task ServeClientAsync(Socket client, IBackendResolver? resolver = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        Interlocked.Increment(ref _clientCount);
        try
        {
            // NoDelay and keepalive come from the listening socket (ListenSockets.Bind): Linux hands them to accepted
            // sockets, and setting them again cost five system calls per new client.
            var session = new ClientSession(this, new SocketClientTransport(client), resolver ?? _defaultResolver);
            await session.RunAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            client.Dispose();
        }
        finally
        {
            Interlocked.Decrement(ref _clientCount);
        }
    }

    /// <summary>Pool statistics as SHOW POOLS and SHOW STATS report them.</summary>
    public IReadOnlyList<PoolInfo> GetPools()
    {
        var now = Time.GetTimestamp();
        var pools = new List<PoolInfo>(_pools.Count);
        var clientCounts = new Dictionary<ServerPool, (int Active, int Waiting, int ActiveCancel, int WaitingCancel)>();
        foreach (var client in _clients.Values)
        {
            if (client.CurrentPool is not { } pool)
            {
                continue;
            }

            clientCounts.TryGetValue(pool, out var counts);
            var waiting = client.State == ClientState.Waiting;
            counts = (counts.Active + (waiting ? 0 : 1), counts.Waiting + (waiting ? 1 : 0),
                counts.ActiveCancel + (!waiting && client.CancelInFlight ? 1 : 0), counts.WaitingCancel + (waiting && client.CancelInFlight ? 1 : 0));
            clientCounts[pool] = counts;
        }

        foreach (var pool in _pools.Values)
        {
            var snapshot = pool.Snapshot(now);
            clientCounts.TryGetValue(pool, out var clients);
            pools.Add(new PoolInfo
            {
                Database = pool.DatabaseName,
                User = pool.LoginUser,
                Backend = pool.Backend.ToString(),
                BackendName = pool.Backend.Name,
                FrontDoor = pool.Resolver.Name,
                ClientsActive = clients.Active,
                ClientsWaiting = clients.Waiting,
                ClientsActiveCancelRequests = clients.ActiveCancel,
                ClientsWaitingCancelRequests = clients.WaitingCancel,
                ServersActive = snapshot.Active,
                ServersIdle = snapshot.Idle,
                ServersUsed = snapshot.Used,
                ServersTested = 0,
                ServersLogin = snapshot.Login,
                MaxWait = snapshot.MaxWait,
                PoolMode = Settings.EffectivePoolMode(pool.Database, pool.LoginUser),
                Paused = snapshot.Paused,
                Stats = pool.Stats,
            });
        }

        return pools;
    }

    /// <summary>Logged-in clients as SHOW CLIENTS lists them.</summary>
    public IReadOnlyList<ClientInfo> GetClients()
    {
        var now = Time.GetTimestamp();
        var clients = new List<ClientInfo>(_clients.Count);
        foreach (var client in _clients.Values)
        {
            var server = client.Server;
            var waitStarted = client.State == ClientState.Waiting ? client.WaitStartedAt : 0;
            clients.Add(new ClientInfo
            {
                Id = client.Id,
                User = client.User,
                Database = client.DatabaseName,
                State = client.CancelInFlight
                    ? (client.State == ClientState.Waiting ? "waiting_cancel_req" : "active_cancel_req")
                    : client.State == ClientState.Waiting ? "waiting" : "active",
                RemoteEndPoint = client.Transport.RemoteEndPoint,
                LocalEndPoint = client.Transport.LocalEndPoint,
                ConnectTime = WallClock(client.ConnectedAt),
                RequestTime = WallClock(client.LastActivityAt),
                Wait = waitStarted == 0 ? TimeSpan.Zero : Time.GetElapsedTime(waitStarted, now),
                LinkedServerId = server?.Id,
                CancelProcessId = client.CancelProcessId,
                Tls = client.Transport.IsTls,
                ApplicationName = client.ApplicationName,
                PoolMode = client.Mode,
            });
        }

        return clients;
    }

    /// <summary>Server connections as SHOW SERVERS lists them.</summary>
    public IReadOnlyList<ServerInfo> GetServers()
    {
        var servers = new List<ServerConnection>();
        foreach (var pool in _pools.Values)
        {
            pool.CopyServers(servers);
        }

        var result = new List<ServerInfo>(servers.Count);
        foreach (var server in servers)
        {
            var client = server.Client;
            result.Add(new ServerInfo
            {
                Id = server.Id,
                User = server.Pool.LoginUser,
                Database = server.Pool.DatabaseName,
                State = server.State switch
                {
                    ServerConnectionState.Active => "active",
                    ServerConnectionState.Idle => "idle",
                    ServerConnectionState.Resetting => "used",
                    ServerConnectionState.Login => "new",
                    _ => "closed",
                },
                Backend = server.Backend.ToString(),
                RemoteEndPoint = server.RemoteEndPoint,
                LocalEndPoint = server.LocalEndPoint,
                ConnectTime = WallClock(server.ConnectedAt),
                RequestTime = WallClock(server.LastUsedAt),
                CloseNeeded = server.CloseNeeded,
                LinkedClientId = client?.Id,
                RemoteProcessId = server.ProcessId,
                ApplicationName = server.Parameters.Get("application_name"),
                PreparedStatements = server.Statements?.Count ?? 0,
            });
        }

        return result;
    }

    private DateTimeOffset WallClock(long timestamp) => _startTime + Time.GetElapsedTime(_startTimestamp, timestamp);

    internal long ElapsedMicroseconds(long start, long end) =>
        end <= start ? 0 : (long)((end - start) * 1_000_000.0 / Time.TimestampFrequency);

    internal ServerPool GetPool(IBackendResolver resolver, BackendEndpoint backend, string databaseName, PoolerDatabase database, string loginUser)
    {
        var key = new PoolKey(resolver, backend, databaseName, loginUser);
        if (_pools.TryGetValue(key, out var pool) && !pool.IsRetired)
        {
            return pool;
        }

        if (_subscribedResolvers.TryAdd(resolver, true))
        {
            resolver.Changed += OnResolverChanged;
            if (resolver is IBackendPrewarmSource prewarm)
            {
                prewarm.PrewarmRequested += OnPrewarmRequested;
            }
        }

        var serverDatabase = database.DbName ?? databaseName;
        var created = new ServerPool(
            this, key, database, serverDatabase,
            _databaseLimits.GetOrAdd((backend, serverDatabase), static _ => new ConnectionLimit()),
            _userLimits.GetOrAdd((backend, loginUser), static _ => new ConnectionLimit()),
            pool is { IsRetired: true } ? pool.Stats : null);
        lock (_gate)
        {
            if (IsPausedLocked(key))
            {
                created.Pause();
            }
        }

        if (pool is not null && pool.IsRetired)
        {
            // The backend came back into service after being retired: start a fresh pool for it.
            return _pools.TryUpdate(key, created, pool) ? created : _pools[key];
        }

        return _pools.GetOrAdd(key, created);
    }

    /// <summary>How servers of <paramref name="pool"/> log in: the entry's fixed user and password, else the user's
    /// secret from auth_file or auth_query, plus SCRAM keys recovered from that user's clients.</summary>
    internal ServerCredentials CredentialsFor(ServerPool pool)
    {
        var database = pool.Database;
        UserSecret? secret = null;
        if (database.User is not null && database.Password is not null)
        {
            secret = UserSecret.Parse(database.Password);
        }
        else if (_users.TryGet(pool.LoginUser, out var listed))
        {
            secret = listed;
        }
        else if (_queriedSecrets.TryGetValue(pool.LoginUser, out var queried))
        {
            secret = queried;
        }

        _scramKeys.TryGetValue(pool.LoginUser, out var keys);
        return new ServerCredentials(pool.LoginUser, secret, keys);
    }

    internal void RememberScramKeys(string user, ScramKeys keys) => _scramKeys[user] = keys;

    /// <summary>The stored secret of the client's user: auth_file first, then auth_query through auth_user.</summary>
    internal async Task<(bool Known, UserSecret Secret)> LookupSecretAsync(ClientSession client, CancellationToken cancellationToken)
    {
        if (_users.TryGet(client.User, out var listed))
        {
            return (true, listed);
        }

        if (client.Database is not { } database)
        {
            // The admin console has no server to run auth_query on: its users come from auth_file only.
            return (false, UserSecret.Empty);
        }

        var authUser = database.AuthUser ?? Settings.AuthUser;
        if (authUser is null)
        {
            return (false, UserSecret.Empty);
        }

        var choice = client.Resolver.Resolve(database, client.User);
        if (choice.Endpoint is not { } backend)
        {
            throw new InvalidOperationException($"no backend is available to run auth_query for database {client.DatabaseName}: {choice.Reason}");
        }

        var serverDatabase = database.DbName ?? client.DatabaseName;
        var query = _authQueries.GetOrAdd((backend, serverDatabase), static key => new AuthQueryClient(key.Item1, key.Item2));
        _users.TryGet(authUser, out var authSecret);
        _scramKeys.TryGetValue(authUser, out var authKeys);
        var secret = await query.LookupAsync(
            client.User, Settings.AuthQuery, new ServerCredentials(authUser, authSecret, authKeys), Settings.ServerConnectTimeout,
            cancellationToken).ConfigureAwait(false);
        if (secret is null)
        {
            return (false, UserSecret.Empty);
        }

        _queriedSecrets[client.User] = secret;
        return (true, secret);
    }

    /// <summary>Registers a logged-in client under a fresh cancel key: a random process id and secret of the pooler's own.</summary>
    internal (int ProcessId, byte[] Key) Register(ClientSession client)
    {
        // One call to the system's CSPRNG per login for both numbers (each call costs OpenSSL's fork check and locking).
        Span<byte> random = stackalloc byte[8];
        while (true)
        {
            RandomNumberGenerator.Fill(random);
            var processId = (int)(BinaryPrimitives.ReadUInt32LittleEndian(random) & int.MaxValue);
            if (processId != 0 && _clients.TryAdd(processId, client))
            {
                return (processId, random[4..].ToArray());
            }
        }
    }

    internal void Unregister(ClientSession client)
    {
        if (client.CancelProcessId != 0)
        {
            _clients.TryRemove(new KeyValuePair<int, ClientSession>(client.CancelProcessId, client));
        }
    }

    /// <summary>A CancelRequest with one of the pooler's keys: finds the client (constant-time key check) and cancels.</summary>
    internal async Task HandleCancelAsync(CancelRequest request)
    {
        if (!_clients.TryGetValue(request.ProcessId, out var client)
            || !CryptographicOperations.FixedTimeEquals(client.CancelKey, request.SecretKey))
        {
            return;
        }

        await client.CancelAsync().ConfigureAwait(false);
    }

    /// <summary>Closes a server whose client left mid-request, cancelling the request first so it does not run on.</summary>
    internal void CancelAndClose(ServerConnection server, string reason)
    {
        _ = CancelThenCloseAsync(server, reason);
    }

    private async Task CancelThenCloseAsync(ServerConnection server, string reason)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Stopping);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await Protocol.Client.PgClient.CancelAsync(server.Backend.Host, server.Backend.Port, server.ProcessId, server.SecretKey, timeout.Token)
                .ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogCancelFailed(server, e.Message);
        }
        finally
        {
            server.Close(reason);
        }
    }

    internal ValueTask<ServerConnection?> WaitForBackendAsync(ServerWaiter waiter)
    {
        lock (_gate)
        {
            waiter.WaitsForBackend = true;
            var pending = waiter.Begin(Time.GetTimestamp());
            _backendWaiters.Add(waiter);
            return pending;
        }
    }

    internal bool TryRemoveBackendWaiter(ServerWaiter waiter)
    {
        lock (_gate)
        {
            if (!_backendWaiters.Remove(waiter))
            {
                return false;
            }

            waiter.WaitsForBackend = false;
            return true;
        }
    }

    private void OnResolverChanged(object? sender, EventArgs e)
    {
        List<ServerWaiter> waiters;
        lock (_gate)
        {
            waiters = [.. _backendWaiters];
            _backendWaiters.Clear();
        }

        foreach (var pool in _pools.Values)
        {
            if (ReferenceEquals(pool.Resolver, sender))
            {
                pool.RetireIfBackendStale();
            }
        }

        foreach (var waiter in waiters)
        {
            waiter.WaitsForBackend = false;
            waiter.Complete(null);
        }
    }

    /// <summary>
    /// A backend is about to take over for <paramref name="sender"/> (a new primary being promoted): for every
    /// (database, user) the resolver's pools serve, opens as many server connections to it as the busiest of those pools
    /// had (at least one, at most the pool size). They wait idle until the resolver routes there.
    /// </summary>
    private void OnPrewarmRequested(object? sender, BackendEndpoint backend)
    {
        if (sender is not IBackendResolver resolver || _stopping.IsCancellationRequested)
        {
            return;
        }

        var wanted = new Dictionary<(string Database, string User), ServerPool>();
        foreach (var pool in _pools.Values)
        {
            if (!ReferenceEquals(pool.Resolver, resolver) || pool.Backend.Equals(backend))
            {
                continue;
            }

            var key = (pool.DatabaseName, pool.LoginUser);
            if (!wanted.TryGetValue(key, out var busiest) || pool.PeakServers > busiest.PeakServers)
            {
                wanted[key] = pool;
            }
        }

        foreach (var ((database, user), model) in wanted)
        {
            var pool = GetPool(resolver, backend, database, model.Database, user);
            pool.PassThroughKeys ??= model.PassThroughKeys;
            pool.LoginSecret ??= model.LoginSecret;
            var opened = pool.Prewarm(Math.Max(1, model.PeakServers));
            if (opened > 0)
            {
                LogPrewarming(opened, backend.Name ?? backend.ToString(), database, user);
            }
        }
    }

    /// <summary>A pool hit max_db_connections or max_user_connections: close an idle connection elsewhere to make room
    /// (as PgBouncer does). Done off the pool's lock, on the janitor.</summary>
    internal void RequestEviction(ServerPool pool) => _evictionRequests.Enqueue(pool);

    private void ProcessEvictions()
    {
        while (_evictionRequests.TryDequeue(out var starving))
        {
            foreach (var other in _pools.Values)
            {
                if (!ReferenceEquals(other, starving) && other.Backend.Equals(starving.Backend)
                    && (other.ServerDatabase == starving.ServerDatabase || other.LoginUser == starving.LoginUser)
                    && !other.HasWaiters && other.TryEvictIdle())
                {
                    break;
                }
            }
        }
    }

    internal void CountLogin() => Interlocked.Increment(ref _logins);

    internal void CountAuthFailure() => Interlocked.Increment(ref _authFailures);

    internal void CountProtocolError() => Interlocked.Increment(ref _protocolErrors);

    internal static (UserList Users, HbaFile? Hba, ClientTlsContext? Tls) LoadFiles(PoolerSettings settings)
    {
        UserList users;
        try
        {
            users = UserList.Load(settings.AuthFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PoolerConfigurationException($"cannot read auth_file {settings.AuthFile}: {e.Message}", e);
        }

        HbaFile? hba = null;
        if (settings.AuthType == PoolerAuthType.Hba)
        {
            if (string.IsNullOrEmpty(settings.AuthHbaFile) || !File.Exists(settings.AuthHbaFile))
            {
                throw new PoolerConfigurationException(
                    $"auth_type is hba but auth_hba_file \"{settings.AuthHbaFile}\" does not exist; create it or choose another auth_type.");
            }

            try
            {
                hba = HbaFile.Load(settings.AuthHbaFile);
            }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
            {
                throw new PoolerConfigurationException(e.Message, e);
            }
        }

        return (users, hba, ClientTlsContext.Load(settings));
    }

    private async Task RunJanitorAsync()
    {
        using var timer = new PeriodicTimer(JanitorInterval, Time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    Maintain();
                }
                catch (Exception e)
                {
                    LogJanitorFailed(e);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One janitor pass: pool upkeep, client timeouts, waits for a backend that timed out.</summary>
    internal void Maintain()
    {
        var now = Time.GetTimestamp();
        ProcessEvictions();
        SampleStats(now);
        foreach (var pool in _pools.Values)
        {
            pool.Maintain(now);
        }

        var settings = Settings;
        if (settings.ClientIdleTimeout > TimeSpan.Zero || settings.IdleTransactionTimeout > TimeSpan.Zero)
        {
            foreach (var client in _clients.Values)
            {
                var idleFor = Time.GetElapsedTime(client.LastActivityAt, now);
                var server = client.Server;
                if (server is null)
                {
                    if (settings.ClientIdleTimeout > TimeSpan.Zero && client.State == ClientState.Idle && idleFor >= settings.ClientIdleTimeout)
                    {
                        client.RequestClose(SqlState.ProtocolViolation, "client_idle_timeout: the client was idle too long");
                    }
                }
                else if (settings.IdleTransactionTimeout > TimeSpan.Zero && server.TransactionStatus != TransactionStatus.Idle
                    && server.Requests.IsEmpty && idleFor >= settings.IdleTransactionTimeout)
                {
                    client.RequestClose("25P03", "idle transaction timeout: the client was idle inside a transaction too long");
                }
            }
        }

        if (settings.QueryWaitTimeout > TimeSpan.Zero)
        {
            List<ServerWaiter>? expired = null;
            lock (_gate)
            {
                for (var i = 0; i < _backendWaiters.Count; i++)
                {
                    var waiter = _backendWaiters[i];
                    if (Time.GetElapsedTime(waiter.EnqueuedAt, now) >= settings.QueryWaitTimeout)
                    {
                        _backendWaiters.RemoveAt(i--);
                        waiter.WaitsForBackend = false;
                        (expired ??= []).Add(waiter);
                    }
                }
            }

            if (expired is not null)
            {
                foreach (var waiter in expired)
                {
                    waiter.Fail(SqlState.QueryCanceled,
                        $"query_wait_timeout: no backend could serve the request within {settings.QueryWaitTimeout.TotalSeconds:0.###} s");
                }
            }
        }
    }

    internal void OnServerOpened(ServerPool pool, ServerConnection server) =>
        LogServerOpened(pool.Backend.ToString(), pool.ServerDatabase, pool.LoginUser, server.ProcessId);

    internal void OnServerClosed(ServerPool pool, ServerConnection server, string reason) =>
        LogServerClosed(pool.Backend.ToString(), pool.ServerDatabase, pool.LoginUser, server.ProcessId, reason);

    internal void OnServerLoginFailed(ServerPool pool, ServerLoginException error) =>
        LogServerLoginFailed(pool.Backend.ToString(), pool.ServerDatabase, pool.LoginUser, error.Message);

    internal void LogSessionFailed(ClientSession client, Exception e) => LogSessionCrashed(client.User, client.DatabaseName, e);

    internal void LogCancelFailed(ServerConnection server, string message) =>
        LogCancelFailedCore(server.Backend.ToString(), server.ProcessId, message);

    public async ValueTask DisposeAsync()
    {
        await ShutdownAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>The elapsed time since this pooler started (for uptime in reports).</summary>
    public TimeSpan Uptime => Time.GetElapsedTime(_startTimestamp);
}
