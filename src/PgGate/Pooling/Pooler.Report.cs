using System.Reflection;

namespace PgGate.Pooling;

/// <summary>The pooler's report (SHOW DATABASES, STATS, USERS, LISTS and the snapshot for /metrics and the JSON status),
/// the stats_period averages, and reloading from the configuration source.</summary>
public sealed partial class Pooler
{
    /// <summary>SHOW VERSION's answer. "PgBouncer x.y.z" stays in it because scripts match on that.</summary>
    public static string Version { get; } =
        $"PgGate {typeof(Pooler).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0"} (PgBouncer 1.18.0 compatible)";

    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _statsGate = new();
    private Dictionary<string, StatsValues> _periodStart = new(StringComparer.Ordinal);
    private Dictionary<string, StatsValues> _averages = new(StringComparer.Ordinal);
    private long _periodStartedAt;

    /// <summary>Where RELOAD (admin console, SIGHUP) gets new settings, e.g. by re-reading pgbouncer.ini. Null: RELOAD keeps
    /// the settings and re-reads the files they name (auth_file, auth_hba_file, TLS files).</summary>
    public Func<PoolerSettings>? SettingsSource { get; set; }

    /// <summary>Completes once <see cref="ShutdownAsync"/> ran (e.g. the admin console's SHUTDOWN), so the host can exit.</summary>
    public Task Stopped => _stopped.Task;

    /// <summary>RELOAD: new settings from <see cref="SettingsSource"/> (or the current ones), applied without dropping clients.</summary>
    /// <exception cref="PoolerConfigurationException">The configuration is broken; the old settings stay in force.</exception>
    public void ReloadFromSource() => Reload(SettingsSource?.Invoke() ?? Settings);

    /// <summary>One consistent-enough snapshot of everything the console shows.</summary>
    public PoolerReport GetReport()
    {
        var pools = GetPools();
        var clients = GetClients();
        var servers = GetServers();
        var databases = GetDatabases(pools);
        var users = GetUsers();
        bool pausedAll;
        lock (_gate)
        {
            pausedAll = _pausedAll;
        }

        return new PoolerReport
        {
            Version = Version,
            Time = Time.GetUtcNow(),
            Uptime = Uptime,
            Pools = pools,
            Clients = clients,
            Servers = servers,
            Databases = databases,
            Stats = GetStats(pools),
            Users = users,
            Lists = new PoolerLists(databases.Count, users.Count, pools.Count, clients.Count, Math.Max(0, ClientCount - clients.Count), servers.Count),
            ClientCount = ClientCount,
            Logins = Logins,
            AuthenticationFailures = AuthenticationFailures,
            ProtocolErrors = ProtocolErrors,
            PausedAll = pausedAll,
        };
    }

    /// <summary>SHOW DATABASES: the configured entries, then the names the "*" entry served.</summary>
    public IReadOnlyList<DatabaseInfo> GetDatabases() => GetDatabases(GetPools());

    private List<DatabaseInfo> GetDatabases(IReadOnlyList<PoolInfo> pools)
    {
        var settings = Settings;
        var connections = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var pool in pools)
        {
            connections.TryGetValue(pool.Database, out var count);
            connections[pool.Database] = count + pool.ServersActive + pool.ServersIdle + pool.ServersUsed + pool.ServersLogin;
        }

        var result = new List<DatabaseInfo>();
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var database in settings.Databases)
        {
            if (!database.IsFallback)
            {
                result.Add(Describe(settings, database, database.Name, connections, automatic: false));
                listed.Add(database.Name);
            }
        }

        foreach (var pool in pools)
        {
            if (listed.Add(pool.Database) && settings.FindDatabase(pool.Database) is { IsFallback: true } fallback)
            {
                result.Add(Describe(settings, fallback, pool.Database, connections, automatic: true));
            }
        }

        return result;
    }

    private DatabaseInfo Describe(PoolerSettings settings, PoolerDatabase entry, string name, Dictionary<string, int> connections, bool automatic)
    {
        connections.TryGetValue(name, out var current);
        return new DatabaseInfo
        {
            Name = name,
            Host = entry.Host,
            Port = entry.Port,
            ServerDatabase = entry.DbName ?? name,
            ForceUser = entry.User,
            PoolSize = entry.PoolSize ?? settings.DefaultPoolSize,
            MinPoolSize = entry.MinPoolSize ?? settings.MinPoolSize,
            ReservePool = entry.ReservePool ?? settings.ReservePoolSize,
            PoolMode = entry.PoolMode,
            MaxConnections = entry.MaxDbConnections ?? settings.MaxDbConnections,
            CurrentConnections = current,
            Paused = IsPaused(name),
            Disabled = IsDisabled(name),
            IsAutomatic = automatic,
        };
    }

    /// <summary>SHOW STATS: totals per database since start and averages over the last completed stats_period.</summary>
    public IReadOnlyList<DatabaseStats> GetStats() => GetStats(GetPools());

    private List<DatabaseStats> GetStats(IReadOnlyList<PoolInfo> pools)
    {
        var totals = TotalsByDatabase(pools);
        foreach (var database in Settings.Databases)
        {
            if (!database.IsFallback)
            {
                totals.TryAdd(database.Name, default);
            }
        }

        Dictionary<string, StatsValues> averages;
        lock (_statsGate)
        {
            averages = _averages;
        }

        var result = new List<DatabaseStats>(totals.Count);
        foreach (var (name, values) in totals)
        {
            averages.TryGetValue(name, out var average);
            result.Add(new DatabaseStats(name, values, average));
        }

        result.Sort(static (a, b) => string.CompareOrdinal(a.Database, b.Database));
        return result;
    }

    /// <summary>SHOW USERS: users of auth_file, of [users] and of pools, with their own pool_mode if [users] sets one.</summary>
    public IReadOnlyList<PoolerUser> GetUsers()
    {
        var settings = Settings;
        var users = new SortedDictionary<string, PoolerUser>(StringComparer.Ordinal);
        foreach (var name in _users.UserNames)
        {
            users[name] = settings.FindUser(name) ?? new PoolerUser { Name = name };
        }

        foreach (var user in settings.Users)
        {
            users[user.Name] = user;
        }

        foreach (var pool in _pools.Values)
        {
            if (!users.ContainsKey(pool.LoginUser))
            {
                users[pool.LoginUser] = new PoolerUser { Name = pool.LoginUser };
            }
        }

        return [.. users.Values];
    }

    private static Dictionary<string, StatsValues> TotalsByDatabase(IReadOnlyList<PoolInfo> pools)
    {
        var totals = new Dictionary<string, StatsValues>(StringComparer.Ordinal);
        foreach (var pool in pools)
        {
            totals.TryGetValue(pool.Database, out var sum);
            totals[pool.Database] = sum.Add(StatsValues.From(pool.Stats));
        }

        return totals;
    }

    /// <summary>On the janitor: once per stats_period, turns the period's counter deltas into SHOW STATS averages.</summary>
    private void SampleStats(long now)
    {
        if (_periodStartedAt == 0)
        {
            _periodStartedAt = now;
            return;
        }

        var elapsed = Time.GetElapsedTime(_periodStartedAt, now);
        if (elapsed < Settings.StatsPeriod)
        {
            return;
        }

        var totals = TotalsByDatabase(GetPools());
        var averages = new Dictionary<string, StatsValues>(totals.Count, StringComparer.Ordinal);
        foreach (var (name, values) in totals)
        {
            _periodStart.TryGetValue(name, out var before);
            averages[name] = values.AveragesSince(before, elapsed.TotalSeconds);
        }

        lock (_statsGate)
        {
            _averages = averages;
        }

        _periodStart = totals;
        _periodStartedAt = now;
    }

    /// <summary>True while PAUSE (without a database) is in force.</summary>
    public bool IsPausedAll
    {
        get
        {
            lock (_gate)
            {
                return _pausedAll;
            }
        }
    }

    /// <summary>True while anything is paused (PAUSE, PAUSE db or KILL db).</summary>
    public bool IsAnyPaused
    {
        get
        {
            lock (_gate)
            {
                return _pausedAll || _pausedDatabases.Count > 0;
            }
        }
    }
}
