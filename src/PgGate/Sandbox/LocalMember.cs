using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using PgGate.Cluster;

namespace PgGate.Sandbox;

/// <summary>
/// One PostgreSQL instance of a <see cref="LocalCluster"/>: its own address, data directory, unix socket directory
/// and log file under <c>&lt;base&gt;/&lt;name&gt;/</c>. Lifecycle operations on one member run one at a time.
/// </summary>
public sealed class LocalMember
{
    private readonly LocalCluster _cluster;
    private readonly IPAddress _address;
    private readonly SemaphoreSlim _lifecycle = new(1, 1);

    internal LocalMember(LocalCluster cluster, int index, IPAddress address, int port, string memberDirectory, bool offlineQuery)
    {
        _cluster = cluster;
        _address = address;
        Index = index;
        Name = $"{cluster.Name}-{index + 1}";
        Host = address.ToString();
        Port = port;
        MemberDirectory = memberDirectory;
        DataDirectory = Path.Combine(memberDirectory, "data");
        LogFile = Path.Combine(memberDirectory, "postgresql.log");
        IsOfflineQuery = offlineQuery;
        Role = MemberRole.Unknown;
    }

    /// <summary><c>&lt;cluster&gt;-&lt;n&gt;</c>, also its <c>cluster_name</c> and its <c>application_name</c> on the primary.</summary>
    public string Name { get; }

    /// <summary>Zero-based position in <see cref="LocalCluster.Members"/>.</summary>
    public int Index { get; }

    public string Host { get; }

    public int Port { get; }

    public string MemberDirectory { get; }

    public string DataDirectory { get; }

    /// <summary>Where the server's unix socket is (<c>.s.PGSQL.&lt;port&gt;</c>); local connections are trusted.</summary>
    public string SocketDirectory => MemberDirectory;

    /// <summary>The server's log (stderr of the postmaster).</summary>
    public string LogFile { get; }

    /// <summary>Marked for offline/ETL queries (Pigsty's <c>pg_offline_query</c>).</summary>
    public bool IsOfflineQuery { get; }

    /// <summary>The role the sandbox last gave the member (primary after initdb or promotion, replica after a clone
    /// or rejoin). A killed primary keeps <see cref="MemberRole.Primary"/>; ask the server for its live role.</summary>
    public MemberRole Role { get; private set; }

    /// <summary>The postmaster's PID while it runs, from <c>postmaster.pid</c>; null when it is not running.</summary>
    public int? Pid
    {
        get
        {
            var pidFile = PostmasterPidFile.Read(DataDirectory);
            return pidFile is not null && IsPostmasterOfThisMember(pidFile.Pid) ? pidFile.Pid : null;
        }
    }

    public bool IsRunning => Pid is not null;

    private OsUser OsUser => _cluster.OsUser;

    private PostgresInstallation Installation => _cluster.Installation;

    private TimeSpan StepTimeout => _cluster.Options.StepTimeout;

    private ILogger Logger => _cluster.Logger;

    /// <summary>A TCP connection string for this member with Npgsql's keywords (Host, Port, Database, Username, Password).</summary>
    public string ConnectionString(string user, string password, string database)
    {
        var builder = new DbConnectionStringBuilder
        {
            ["Host"] = Host,
            ["Port"] = Port.ToString(CultureInfo.InvariantCulture),
            ["Database"] = database,
            ["Username"] = user,
            ["Password"] = password,
        };
        return builder.ConnectionString;
    }

    public string ConnectionString(LocalClusterUser user, string database) => ConnectionString(user.Name, user.Password, database);

    /// <summary>Starts the server (as it was: primary or replica) and returns once it accepts connections. A replica
    /// may not be streaming yet; see <see cref="WaitUntilStreamingAsync"/>. No-op when it is running.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken);
        try
        {
            if (!IsRunning)
            {
                await StartServerAsync(cancellationToken);
            }
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Stops the server with <c>pg_ctl stop</c>; no-op when it is not running.</summary>
    public async Task StopAsync(StopMode mode = StopMode.Fast, CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken);
        try
        {
            await StopServerAsync(mode, cancellationToken);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>SIGKILLs the postmaster: a crash. Its backends notice and exit on their own; the next start, rewind
    /// or clone waits for them. Returns once the postmaster is dead; no-op when it is not running.</summary>
    public void Kill()
    {
        if (Pid is not int pid)
        {
            return;
        }

        SandboxLog.Killing(Logger, Name, pid);
        _ = NativeMethods.Kill(pid, NativeMethods.SigKill);
        if (!ProcessReaper.WaitUntilDead(pid, TimeSpan.FromSeconds(10)))
        {
            throw new SandboxException($"Sent SIGKILL to {Name}'s postmaster (PID {pid}), but it is still alive after 10 s.");
        }
    }

    /// <summary>Promotes a running replica (<c>pg_ctl promote</c>) and returns once it accepts writes.</summary>
    public async Task PromoteAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken);
        try
        {
            if (!IsRunning)
            {
                throw new SandboxException($"Cannot promote {Name}: it is not running. Start it first (StartAsync).");
            }

            var stopwatch = Stopwatch.StartNew();
            if (await RunSqlAsync("select pg_is_in_recovery()", cancellationToken) == "t")
            {
                await PgCtlAsync(["promote", "-D", DataDirectory, "-w", "-t", Seconds(StepTimeout)], "promote " + Name, cancellationToken);
                await Waiting.UntilAsync(
                    async ct => await RunSqlAsync("select pg_is_in_recovery()", ct) == "f",
                    StepTimeout,
                    error => $"{Name} was promoted but still reports pg_is_in_recovery() = t after {StepTimeout.TotalSeconds:0} s" +
                        (error is null ? "." : $" (last error: {error}).") + LogTailNote(this),
                    cancellationToken);
            }

            Role = MemberRole.Primary;
            _cluster.MadePrimary(this);
            SandboxLog.Promoted(Logger, Name, stopwatch.ElapsedMilliseconds);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>
    /// Brings a former primary (or any member) back as a streaming replica of <paramref name="newPrimary"/>: stops it if
    /// it runs, rewinds it with pg_rewind (re-clones with pg_basebackup when that is impossible), writes
    /// <c>standby.signal</c> and <c>primary_conninfo</c>, starts it, and returns once the new primary sees it streaming.
    /// </summary>
    public async Task<RejoinMethod> RejoinAsReplicaAsync(LocalMember newPrimary, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(newPrimary);
        if (newPrimary == this || newPrimary._cluster != _cluster)
        {
            throw new ArgumentException($"{newPrimary.Name} is not another member of {Name}'s cluster.", nameof(newPrimary));
        }

        await _lifecycle.WaitAsync(cancellationToken);
        try
        {
            var stopwatch = Stopwatch.StartNew();
            if (!newPrimary.IsRunning)
            {
                throw new SandboxException($"Cannot rejoin {Name} to {newPrimary.Name}: {newPrimary.Name} is not running.");
            }

            await StopServerAsync(StopMode.Fast, cancellationToken);
            await ReleaseDataDirectoryAsync();

            // A just-promoted server writes its new timeline to pg_control only at the next checkpoint, and pg_rewind
            // reads the source's timeline from there: without this it may see no divergence and do nothing.
            await newPrimary.RunSqlAsync("CHECKPOINT", cancellationToken);

            var rewind = await CommandRunner.RunAsync(
                OsUser,
                Installation.PgRewind,
                ["--target-pgdata", DataDirectory, "--source-server", newPrimary.LocalConninfo("postgres"), "--no-sync"],
                Logger,
                cancellationToken,
                timeout: StepTimeout);
            RejoinMethod method;
            if (rewind.Succeeded)
            {
                method = RejoinMethod.Rewind;
            }
            else
            {
                SandboxLog.RewindFailed(Logger, rewind.Describe($"rewind {Name}", LogFile), Name);
                if (Directory.Exists(DataDirectory))
                {
                    Directory.Delete(DataDirectory, recursive: true);
                }

                await BaseBackupAsync(newPrimary, cancellationToken);
                method = RejoinMethod.Reclone;
            }

            await BecomeReplicaOfAsync(newPrimary, cancellationToken);
            SandboxLog.Rejoined(Logger, Name, newPrimary.Name, method, stopwatch.ElapsedMilliseconds);
            return method;
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Waits until the cluster's current primary lists this member in <c>pg_stat_replication</c> as streaming.</summary>
    public Task WaitUntilStreamingAsync(CancellationToken cancellationToken = default)
    {
        var primary = _cluster.CurrentPrimary ?? throw new SandboxException(
            $"Cannot wait for {Name} to stream: the cluster has no running primary.");
        return WaitUntilStreamingFromAsync(primary, cancellationToken);
    }

    /// <summary>
    /// Waits until this replica has replayed everything the cluster's current primary had written when the wait began.
    /// With asynchronous replication a commit may not have reached a replica yet: call this before killing a primary
    /// whose last writes the test expects to survive the failover.
    /// </summary>
    public async Task WaitUntilCaughtUpAsync(CancellationToken cancellationToken = default)
    {
        var primary = _cluster.CurrentPrimary ?? throw new SandboxException(
            $"Cannot wait for {Name} to catch up: the cluster has no running primary.");
        if (primary == this)
        {
            return;
        }

        // A fresh commit on the primary lands in its WAL after everything committed before; once the replica reports
        // it committed, it has replayed all of that. (Comparing LSNs is not enough: the primary's insert position can
        // point past a page header that no record will fill until the next write.)
        var marker = await primary.RunSqlAsync("select pg_current_xact_id()", cancellationToken);
        await Waiting.UntilAsync(
            async ct => await RunSqlAsync($"select pg_xact_status({Quoting.SqlLiteral(marker)}::xid8)", ct) == "committed",
            StepTimeout,
            error => $"{Name} did not replay {primary.Name}'s transaction {marker} within {StepTimeout.TotalSeconds:0} s" +
                (error is null ? "." : $" (last error: {error}).") + LogTailNote(this),
            cancellationToken);
    }

    /// <summary>Runs SQL through psql as the <c>postgres</c> superuser over the unix socket, each statement on its own
    /// (so CREATE DATABASE works), stopping at the first error. Returns the rows, unaligned (<c>|</c>-separated), one per
    /// line, without the final newline.</summary>
    public Task<string> RunSqlAsync(string sql, CancellationToken cancellationToken = default) =>
        RunSqlAsync(sql, "postgres", cancellationToken);

    public Task<string> RunSqlAsync(string sql, string database, CancellationToken cancellationToken = default) =>
        RunSqlAsync(sql, database, $"run SQL on {Name} ({Truncate(sql)})", cancellationToken);

    private async Task<string> RunSqlAsync(string sql, string database, string purpose, CancellationToken cancellationToken)
    {
        try
        {
            return await Psql.RunAsync(
                Installation, OsUser, Logger, SocketDirectory, Port, database, sql, purpose, LogFile, StepTimeout, cancellationToken);
        }
        catch (SandboxException e) when (!IsRunning)
        {
            throw new SandboxException($"{e.Message}\n{Name} is not running.", e);
        }
    }

    public override string ToString() => $"{Name} ({Host}:{Port})";

    internal async Task InitializeAsPrimaryAsync(CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var options = _cluster.Options;
        if (options.ReuseInitdbTemplate)
        {
            var template = await InitdbTemplate.GetAsync(Installation, OsUser, Logger, options, cancellationToken);
            var copy = await CommandRunner.RunAsync(
                OsUser,
                "cp",
                ["-a", template, DataDirectory],
                Logger,
                cancellationToken,
                timeout: StepTimeout);
            copy.ThrowIfFailed($"copy the initdb template into {DataDirectory}");
        }
        else
        {
            await PrimaryBuilder.InitdbAsync(Installation, OsUser, Logger, DataDirectory, options, cancellationToken);
        }

        var prepared = stopwatch.ElapsedMilliseconds;
        ServerFiles.WriteMemberSettings(this, synchronousStandby: null, OsUser);
        Role = MemberRole.Primary;
        await StartServerAsync(cancellationToken);
        if (!options.ReuseInitdbTemplate)
        {
            await RunSqlAsync(PrimaryBuilder.UsersAndDatabasesSql(options), "postgres", $"create users and databases on {Name}", cancellationToken);
        }

        SandboxLog.PrimaryStarted(
            Logger, Name, Host, Port, stopwatch.ElapsedMilliseconds, options.ReuseInitdbTemplate ? "template copy" : "initdb", prepared);
    }

    internal async Task CloneFromAsync(LocalMember primary, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        await BaseBackupAsync(primary, cancellationToken);
        await BecomeReplicaOfAsync(primary, cancellationToken, waitForStreaming: false);
        SandboxLog.ReplicaStarted(Logger, Name, Host, Port, stopwatch.ElapsedMilliseconds);
    }

    internal Task WaitUntilStreamingFromAsync(LocalMember primary, CancellationToken cancellationToken) =>
        Waiting.UntilAsync(
            async ct => await primary.RunSqlAsync(
                $"select state from pg_stat_replication where application_name = {Quoting.SqlLiteral(Name)}",
                ct) == "streaming",
            StepTimeout,
            error => $"{Name} did not start streaming from {primary.Name} within {StepTimeout.TotalSeconds:0} s" +
                (error is null ? "." : $" (last error: {error}).") + LogTailNote(this) + LogTailNote(primary),
            cancellationToken);

    internal async Task EnableSynchronousStandbyAsync(LocalMember standby, CancellationToken cancellationToken)
    {
        ServerFiles.WriteMemberSettings(this, standby.Name, OsUser);
        await RunSqlAsync("select pg_reload_conf()", cancellationToken);
        await Waiting.UntilAsync(
            async ct => await RunSqlAsync(
                $"select sync_state from pg_stat_replication where application_name = {Quoting.SqlLiteral(standby.Name)}",
                ct) == "sync",
            StepTimeout,
            error => $"{standby.Name} did not become {Name}'s synchronous standby within {StepTimeout.TotalSeconds:0} s" +
                (error is null ? "." : $" (last error: {error}).") + LogTailNote(this),
            cancellationToken);
    }

    /// <summary>Stops the server for good (the cluster is being disposed): fast, then immediate, then signals.</summary>
    internal async Task StopForDisposalAsync()
    {
        if (IsRunning)
        {
            var fast = await PgCtlStopAsync(StopMode.Fast, TimeSpan.FromSeconds(15), CancellationToken.None);
            if (!fast.Succeeded && IsRunning)
            {
                SandboxLog.StopEscalated(Logger, fast.Describe($"stop {Name}", LogFile), "pg_ctl stop -m immediate", Name);
                var immediate = await PgCtlStopAsync(StopMode.Immediate, TimeSpan.FromSeconds(10), CancellationToken.None);
                if (!immediate.Succeeded && IsRunning)
                {
                    SandboxLog.StopEscalated(Logger, immediate.Describe($"stop {Name}", LogFile), "SIGQUIT/SIGKILL", Name);
                }
            }
        }

        await Task.Run(() =>
        {
            if (ProcessReaper.EndAllUsing(DataDirectory, TimeSpan.FromSeconds(2)))
            {
                PostmasterPidFile.RemoveStale(DataDirectory);
            }
        });
    }

    private async Task StartServerAsync(CancellationToken cancellationToken)
    {
        await ReleaseDataDirectoryAsync();
        await AddressGuard.EnsureFreeAsync(Name, _address, Port, Logger, cancellationToken);
        var start = await CommandRunner.RunAsync(
            OsUser,
            Installation.PgCtl,
            ["start", "-D", DataDirectory, "-l", LogFile, "-w", "-t", Seconds(StepTimeout), "-s"],
            Logger,
            cancellationToken,
            timeout: StepTimeout + TimeSpan.FromSeconds(10));
        start.ThrowIfFailed($"start {Name} on {Host}:{Port}", LogFile);
    }

    private async Task StopServerAsync(StopMode mode, CancellationToken cancellationToken)
    {
        if (!IsRunning)
        {
            return;
        }

        var stop = await PgCtlStopAsync(mode, StepTimeout, cancellationToken);
        if (IsRunning)
        {
            stop.ThrowIfFailed($"stop {Name}", LogFile);
        }
    }

    private Task<CommandResult> PgCtlStopAsync(StopMode mode, TimeSpan timeout, CancellationToken cancellationToken) =>
        CommandRunner.RunAsync(
            OsUser,
            Installation.PgCtl,
            ["stop", "-D", DataDirectory, "-m", mode == StopMode.Fast ? "fast" : "immediate", "-w", "-t", Seconds(timeout), "-s"],
            Logger,
            cancellationToken,
            timeout: timeout + TimeSpan.FromSeconds(10));

    private async Task PgCtlAsync(IReadOnlyList<string> arguments, string purpose, CancellationToken cancellationToken)
    {
        var result = await CommandRunner.RunAsync(OsUser, Installation.PgCtl, arguments, Logger, cancellationToken, timeout: StepTimeout + TimeSpan.FromSeconds(10));
        result.ThrowIfFailed(purpose, LogFile);
    }

    private async Task BaseBackupAsync(LocalMember source, CancellationToken cancellationToken)
    {
        var replicationUser = _cluster.Options.ReplicationUser!;
        var conninfo = Quoting.Conninfo(
            ("host", source.Host),
            ("port", source.Port.ToString(CultureInfo.InvariantCulture)),
            ("user", replicationUser.Name),
            ("passfile", _cluster.PassFile),
            ("application_name", Name));
        var backup = await CommandRunner.RunAsync(
            OsUser,
            Installation.PgBasebackup,
            ["-D", DataDirectory, "-R", "-X", "stream", "-c", "fast", "--no-sync", "-w", "-d", conninfo],
            Logger,
            cancellationToken,
            timeout: StepTimeout);
        backup.ThrowIfFailed($"clone {Name} from {source.Name}", source.LogFile);
    }

    private async Task BecomeReplicaOfAsync(LocalMember primary, CancellationToken cancellationToken, bool waitForStreaming = true)
    {
        ServerFiles.WriteMemberSettings(this, synchronousStandby: null, OsUser);
        ServerFiles.WriteStandbySettings(this, primary, _cluster.Options.ReplicationUser!, _cluster.PassFile, OsUser);
        Role = MemberRole.Replica;
        await StartServerAsync(cancellationToken);
        if (waitForStreaming)
        {
            await WaitUntilStreamingFromAsync(primary, cancellationToken);
        }
    }

    /// <summary>
    /// Before a start, rewind or clone: waits for backends a killed postmaster left behind, then removes its lock files
    /// (data directory and socket). PostgreSQL would do the latter itself, except that it takes a zombie PID (this
    /// machine's init reaps orphans late) for a live postmaster and refuses to start.
    /// </summary>
    private Task ReleaseDataDirectoryAsync() => Task.Run(() =>
    {
        if (IsRunning || !Directory.Exists(DataDirectory))
        {
            return;
        }

        if (!ProcessReaper.AwaitOrphans(DataDirectory, TimeSpan.FromSeconds(10)))
        {
            throw new SandboxException(
                $"Processes of {Name}'s earlier server still use {DataDirectory} after SIGKILL: " +
                string.Join(", ", ProcFs.ProcessesUsing(DataDirectory)) + ".");
        }

        PostmasterPidFile.RemoveStale(DataDirectory);
        PostmasterPidFile.RemoveStaleSocketLock(SocketDirectory, Port);
    });

    private bool IsPostmasterOfThisMember(int pid) =>
        ProcFs.IsAlive(pid) && ProcFs.WorkingDirectory(pid) == DataDirectory;

    /// <summary>A libpq connection string for the unix socket (trusted), for tools such as pg_rewind.</summary>
    private string LocalConninfo(string database) =>
        Quoting.Conninfo(
            ("host", SocketDirectory),
            ("port", Port.ToString(CultureInfo.InvariantCulture)),
            ("user", Psql.Superuser),
            ("dbname", database));

    private static string LogTailNote(LocalMember member) =>
        $"\nlast lines of {member.LogFile}:\n  " + LogTail.Read(member.LogFile, 10).Replace("\n", "\n  ", StringComparison.Ordinal);

    private static string Seconds(TimeSpan timeout) =>
        ((int)Math.Ceiling(timeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private static string Truncate(string sql)
    {
        var oneLine = sql.ReplaceLineEndings(" ").Trim();
        return oneLine.Length <= 60 ? oneLine : oneLine[..57] + "...";
    }
}
