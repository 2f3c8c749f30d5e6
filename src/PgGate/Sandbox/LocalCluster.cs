using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace PgGate.Sandbox;

/// <summary>
/// A real PostgreSQL cluster on this machine: a primary made by initdb and replicas cloned from it with
/// pg_basebackup, each on its own loopback address. Serves <c>pggate demo</c> and the integration tests.
/// Disposing stops every server it started and deletes its base directory; a sandbox left behind by a killed
/// process is cleaned up by the next <see cref="StartAsync"/>.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly EventHandler _onProcessExit;
    private LocalMember _primary;
    private int _disposed;

    private LocalCluster(LocalClusterOptions options, PostgresInstallation installation, OsUser osUser, string baseDirectory, ILogger logger)
    {
        Options = options;
        Installation = installation;
        OsUser = osUser;
        BaseDirectory = baseDirectory;
        Logger = logger;
        var addresses = options.Validate();
        var members = new LocalMember[addresses.Count];
        for (var i = 0; i < members.Length; i++)
        {
            var memberDirectory = Path.Combine(baseDirectory, $"{options.Name}-{i + 1}");
            members[i] = new LocalMember(this, i, addresses[i], options.Port, memberDirectory, i == options.OfflineQueryMemberIndex);
        }

        Members = members;
        _primary = members[0];
        _onProcessExit = (_, _) => EmergencyCleanup();
    }

    public LocalClusterOptions Options { get; }

    public string Name => Options.Name;

    public PostgresInstallation Installation { get; }

    /// <summary>The OS user the servers run as (<c>postgres</c> when this process is root).</summary>
    public OsUser OsUser { get; }

    /// <summary>Holds one directory per member (data, socket, log) and the replication password file.</summary>
    public string BaseDirectory { get; }

    /// <summary>In order: <c>&lt;name&gt;-1</c> (the first primary), <c>-2</c>, <c>-3</c>...</summary>
    public IReadOnlyList<LocalMember> Members { get; }

    /// <summary>The member most recently made primary (the first one, or the last promoted), while it runs;
    /// null when it is down.</summary>
    public LocalMember? CurrentPrimary => _primary.IsRunning ? _primary : null;

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    internal ILogger Logger { get; }

    /// <summary>A .pgpass with the replication user's password, readable by the servers' OS user only.</summary>
    internal string PassFile => Path.Combine(BaseDirectory, "pgpass");

    /// <summary>
    /// Builds and starts the cluster: initdb and start the primary, create the users and databases, clone and start
    /// the replicas in parallel, and return once every replica streams from the primary (and, with
    /// <see cref="LocalClusterOptions.SynchronousStandby"/>, the first one is the synchronous standby).
    /// </summary>
    public static async Task<LocalCluster> StartAsync(
        LocalClusterOptions? options = null,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new LocalClusterOptions();
        logger ??= NullLogger.Instance;
        var addresses = options.Validate();
        var installation = PostgresInstallation.Find();
        var osUser = OsUser.ForPostgres();
        var stopwatch = Stopwatch.StartNew();

        await Task.Run(() => LeftoverSweeper.Sweep(logger), cancellationToken);
        for (var i = 0; i < addresses.Count; i++)
        {
            await AddressGuard.EnsureFreeAsync($"{options.Name}-{i + 1}", addresses[i], options.Port, logger, cancellationToken);
        }

        var baseDirectory = CreateBaseDirectory(options, osUser);
        var cluster = new LocalCluster(options, installation, osUser, baseDirectory, logger);
        AppDomain.CurrentDomain.ProcessExit += cluster._onProcessExit;
        try
        {
            await cluster.BuildAsync(cancellationToken);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        SandboxLog.ClusterStarted(
            logger,
            options.Name,
            addresses.Count,
            installation.BinDirectory,
            osUser.Name,
            stopwatch.ElapsedMilliseconds,
            baseDirectory);
        return cluster;
    }

    public LocalMember Member(string name)
    {
        foreach (var member in Members)
        {
            if (member.Name == name)
            {
                return member;
            }
        }

        throw new ArgumentException($"Cluster {Name} has no member {name}.", nameof(name));
    }

    /// <summary>Stops every server of the cluster (pg_ctl stop fast, then immediate, then signals) and deletes
    /// <see cref="BaseDirectory"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= _onProcessExit;
        var stopwatch = Stopwatch.StartNew();
        var stops = new Task[Members.Count];
        for (var i = 0; i < stops.Length; i++)
        {
            stops[i] = Members[i].StopForDisposalAsync();
        }

        try
        {
            await Task.WhenAll(stops);
        }
        catch (Exception e)
        {
            SandboxLog.ClusterStopFailed(Logger, e, Name);
        }

        await Task.Run(() =>
        {
            ProcessReaper.EndAllUsing(BaseDirectory, TimeSpan.FromSeconds(2));
            LeftoverSweeper.DeleteDirectory(BaseDirectory, Logger);
        });
        SandboxLog.ClusterDisposed(Logger, Name, stopwatch.ElapsedMilliseconds);
    }

    internal void MadePrimary(LocalMember member) => _primary = member;

    private async Task BuildAsync(CancellationToken cancellationToken)
    {
        var primary = Members[0];
        await primary.InitializeAsPrimaryAsync(cancellationToken);
        if (Members.Count == 1)
        {
            return;
        }

        ServerFiles.WritePassFile(PassFile, Options.ReplicationUser!, OsUser);
        var clones = new Task[Members.Count - 1];
        for (var i = 1; i < Members.Count; i++)
        {
            clones[i - 1] = Members[i].CloneFromAsync(primary, cancellationToken);
        }

        await Task.WhenAll(clones);
        for (var i = 1; i < Members.Count; i++)
        {
            await Members[i].WaitUntilStreamingFromAsync(primary, cancellationToken);
        }

        if (Options.SynchronousStandby)
        {
            await primary.EnableSynchronousStandbyAsync(Members[1], cancellationToken);
        }
    }

    private static string CreateBaseDirectory(LocalClusterOptions options, OsUser osUser)
    {
        string directory;
        if (options.BaseDirectory is null)
        {
            directory = SandboxDirectories.CreateUnique(options.Name);
        }
        else
        {
            directory = Path.GetFullPath(options.BaseDirectory);
            if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
            {
                throw new SandboxException(
                    $"BaseDirectory {directory} is not empty. Disposing a sandbox deletes its base directory, so give an " +
                    "absent or empty directory, or leave BaseDirectory null for a fresh one under /dev/shm or /tmp.");
            }

            Directory.CreateDirectory(directory);
        }

        // Servers report their working directory with links resolved; compare like with like.
        directory = NativeMethods.ResolvePath(directory);
        SandboxOwner.Current.WriteTo(directory);

        var longest = Path.Combine(directory, $"{options.Name}-{options.Hosts.Count}", $".s.PGSQL.{options.Port}");
        if (longest.Length > LocalClusterOptions.MaxUnixSocketPath)
        {
            Directory.Delete(directory, recursive: true);
            throw new SandboxException(
                $"BaseDirectory {directory} is too long for unix sockets ({longest} has {longest.Length} characters, the limit is " +
                $"{LocalClusterOptions.MaxUnixSocketPath}). Choose a shorter BaseDirectory or leave it null.");
        }

        FileModes.RestrictDirectory(directory);
        osUser.TakeOwnership(directory);
        for (var i = 1; i <= options.Hosts.Count; i++)
        {
            var memberDirectory = Path.Combine(directory, $"{options.Name}-{i}");
            Directory.CreateDirectory(memberDirectory);
            FileModes.RestrictDirectory(memberDirectory);
            osUser.TakeOwnership(memberDirectory);
        }

        return directory;
    }

    /// <summary>The process is exiting without having disposed the cluster (e.g. Ctrl+C, SIGTERM): leave nothing running.</summary>
    internal void EmergencyCleanup()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        ProcessReaper.EndAllUsing(BaseDirectory, TimeSpan.FromSeconds(3));
        foreach (var member in Members)
        {
            PostmasterPidFile.RemoveStale(member.DataDirectory);
        }

        LeftoverSweeper.DeleteDirectory(BaseDirectory, Logger);
    }
}
