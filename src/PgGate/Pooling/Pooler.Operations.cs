using PgGate.Pooling.Sessions;
using PgGate.Protocol;

namespace PgGate.Pooling;

/// <summary>What the admin console (and SIGHUP, and the HTTP API) can ask of the pooler, with PgBouncer's semantics.</summary>
public sealed partial class Pooler
{
    private static readonly TimeSpan PausePollInterval = TimeSpan.FromMilliseconds(20);
    private int _shutdown;

    /// <summary>
    /// PAUSE [db]: new checkouts wait (clients stay connected); completes once every server connection of the database
    /// (or of all databases) has been released by its client, and closes them, as PgBouncer does.
    /// </summary>
    public async Task PauseAsync(string? database = null, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (database is null)
            {
                _pausedAll = true;
            }
            else
            {
                _pausedDatabases.Add(database);
            }
        }

        await PauseAndDrainAsync(key => database is null || key.Database == database, cancellationToken).ConfigureAwait(false);
    }

    private async Task PauseAndDrainAsync(Func<PoolKey, bool> covers, CancellationToken cancellationToken)
    {
        while (true)
        {
            var busy = false;
            foreach (var pool in _pools.Values)
            {
                if (!covers(pool.Key))
                {
                    continue;
                }

                pool.Pause();
                busy |= !pool.HasNoServers;
            }

            if (!busy)
            {
                return;
            }

            await Task.Delay(PausePollInterval, Time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>RESUME [db]: waiting clients get servers again (those of pools no other pause still covers).</summary>
    public void Resume(string? database = null)
    {
        lock (_gate)
        {
            if (database is null)
            {
                _pausedAll = false;
                _pausedDatabases.Clear();
            }
            else
            {
                _pausedDatabases.Remove(database);
            }
        }

        ResumeUncovered(key => database is null || key.Database == database);
    }

    /// <summary>
    /// Pauses only the pools <paramref name="pause"/> covers, now and as they are created, with PAUSE's semantics: a
    /// switchover of one cluster pauses that cluster's front doors on a pooler that other clusters' services share, and
    /// leaves those alone. Completes once their server connections are released and closed; the pause lasts, also when
    /// the wait is cancelled, until <see cref="Resume(PoolPauseScope)"/>.
    /// </summary>
    internal async Task PauseAsync(PoolPauseScope pause, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_pauseScopes.Contains(pause))
            {
                _pauseScopes.Add(pause);
            }
        }

        await PauseAndDrainAsync(pause.Covers, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends a scoped pause; its pools resume unless another pause covers them.</summary>
    internal void Resume(PoolPauseScope pause)
    {
        lock (_gate)
        {
            if (!_pauseScopes.Remove(pause))
            {
                return;
            }
        }

        ResumeUncovered(pause.Covers);
    }

    private void ResumeUncovered(Func<PoolKey, bool> lifted)
    {
        foreach (var pool in _pools.Values)
        {
            if (!lifted(pool.Key))
            {
                continue;
            }

            lock (_gate)
            {
                if (IsPausedLocked(pool.Key))
                {
                    continue;
                }
            }

            pool.Resume();
        }
    }

    private bool IsPausedLocked(PoolKey key)
    {
        if (_pausedAll || _pausedDatabases.Contains(key.Database))
        {
            return true;
        }

        foreach (var scope in _pauseScopes)
        {
            if (scope.Covers(key))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True while the database (or everything) is paused.</summary>
    public bool IsPaused(string database)
    {
        lock (_gate)
        {
            return _pausedAll || _pausedDatabases.Contains(database);
        }
    }

    /// <summary>
    /// DISABLE db: new clients of the database are refused at login; connected ones go on (PgBouncer's semantics, e.g.
    /// before dropping or moving a database: DISABLE, then KILL or wait for them to leave). Kept across RELOAD.
    /// </summary>
    public void Disable(string database)
    {
        ArgumentException.ThrowIfNullOrEmpty(database);
        lock (_gate)
        {
            _disabledDatabases.Add(database);
        }
    }

    /// <summary>ENABLE db: ends a <see cref="Disable"/>.</summary>
    public void Enable(string database)
    {
        lock (_gate)
        {
            _disabledDatabases.Remove(database);
        }
    }

    /// <summary>True while the database is disabled (new clients refused).</summary>
    public bool IsDisabled(string database)
    {
        lock (_gate)
        {
            return _disabledDatabases.Contains(database);
        }
    }

    /// <summary>RECONNECT [db]: every server connection closes as soon as its client releases it; clients do not notice.</summary>
    public void Reconnect(string? database = null)
    {
        foreach (var pool in _pools.Values)
        {
            if (database is null || pool.DatabaseName == database)
            {
                pool.CloseAllWhenReleased("RECONNECT");
            }
        }
    }

    /// <summary>KILL db: drops every client and server connection of the database now; new clients wait until RESUME.</summary>
    public void Kill(string database)
    {
        ArgumentException.ThrowIfNullOrEmpty(database);
        lock (_gate)
        {
            _pausedDatabases.Add(database);
        }

        foreach (var pool in _pools.Values)
        {
            if (pool.DatabaseName == database)
            {
                pool.Pause();
                pool.CloseAll($"database {database} was killed (KILL)", closePool: false);
            }
        }

        foreach (var client in _clients.Values)
        {
            if (client.DatabaseName == database)
            {
                client.RequestClose(SqlState.AdminShutdown, $"database \"{database}\" was killed by an administrator (KILL)");
            }
        }
    }

    /// <summary>
    /// RELOAD: applies new settings and re-reads auth_file, auth_hba_file and the TLS files without dropping clients.
    /// Pools whose database entry changed where it matters to servers (host, port, dbname, user, password) close their
    /// connections as they are released; sizes, modes and timeouts apply at once.
    /// </summary>
    /// <exception cref="PoolerConfigurationException">A file is broken; the old settings stay in force.</exception>
    public void Reload(PoolerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var files = LoadFiles(settings);
        _settings = settings;
        (_users, _hba, _tls) = files;
        foreach (var pool in _pools.Values)
        {
            var entry = settings.FindDatabase(pool.DatabaseName);
            if (entry is null)
            {
                pool.Retire($"database {pool.DatabaseName} was removed by RELOAD");
                continue;
            }

            var old = pool.Database;
            if (entry.Host != old.Host || entry.Port != old.Port || entry.DbName != old.DbName || entry.User != old.User
                || entry.Password != old.Password)
            {
                pool.Retire($"RELOAD changed database entry {pool.DatabaseName}");
                continue;
            }

            pool.Database = entry;
            pool.ApplySettings();
        }

        LogReloaded(_pools.Count, _users.Count);
    }

    /// <summary>SHUTDOWN: stops the janitor, tells every client PgGate is going away (57P01), closes every server connection.</summary>
    public async Task ShutdownAsync()
    {
        if (Interlocked.Exchange(ref _shutdown, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var client in _clients.Values)
        {
            client.RequestClose(SqlState.AdminShutdown, "terminating connection: PgGate is shutting down");
        }

        foreach (var pool in _pools.Values)
        {
            pool.CloseAll("PgGate is shutting down", closePool: true);
        }

        foreach (var query in _authQueries.Values)
        {
            query.Dispose();
        }

        if (_janitor is not null)
        {
            await _janitor.ConfigureAwait(false);
        }

        _stopped.TrySetResult();
    }
}
