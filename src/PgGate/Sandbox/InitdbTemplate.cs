using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace PgGate.Sandbox;

/// <summary>
/// A primary's data directory made once per process (initdb, settings, users, databases, cleanly stopped) and
/// copied for every later cluster with the same settings. initdb costs 1.2-2.5 s of CPU on this machine and the
/// fixtures rebuild clusters after every failover test; a copy costs about 0.1 s. Templates live in
/// <c>pggate-template-*</c> next to the clusters, are deleted when the process exits, and are swept like any
/// other leftover when it is killed. All clusters made from one template share its system identifier.
/// </summary>
internal static class InitdbTemplate
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<string>>> Templates = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, byte> Directories = new(StringComparer.Ordinal);
    private static int s_exitHookInstalled;

    /// <summary>The template's data directory for these options; made on first use.</summary>
    public static async Task<string> GetAsync(
        PostgresInstallation installation,
        OsUser osUser,
        ILogger logger,
        LocalClusterOptions options,
        CancellationToken cancellationToken)
    {
        var key = KeyOf(installation, options);
        while (true)
        {
            // Several clusters may ask at once; one builds, on no caller's cancellation token, and all share the result.
            var lazy = Templates.GetOrAdd(key, _ => new Lazy<Task<string>>(() => CreateAsync(installation, osUser, logger, options)));
            string dataDirectory;
            try
            {
                dataDirectory = await lazy.Value.WaitAsync(cancellationToken);
            }
            catch (Exception) when (lazy.Value.IsFaulted)
            {
                Templates.TryRemove(KeyValuePair.Create(key, lazy));
                throw;
            }

            if (File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
            {
                return dataDirectory;
            }

            // Someone deleted it (e.g. cleaned /dev/shm by hand): make it again.
            Templates.TryRemove(KeyValuePair.Create(key, lazy));
        }
    }

    private static async Task<string> CreateAsync(PostgresInstallation installation, OsUser osUser, ILogger logger, LocalClusterOptions options)
    {
        InstallExitHook();
        var directory = NativeMethods.ResolvePath(SandboxDirectories.CreateUnique("template"));
        Directories.TryAdd(directory, 0);
        SandboxOwner.Current.WriteTo(directory);
        FileModes.RestrictDirectory(directory);
        osUser.TakeOwnership(directory);
        var dataDirectory = Path.Combine(directory, "data");
        var log = Path.Combine(directory, "postgresql.log");
        try
        {
            await PrimaryBuilder.InitdbAsync(installation, osUser, logger, dataDirectory, options, CancellationToken.None);

            // Unix socket only: the template server needs no address and must not collide with anything.
            ServerFiles.WriteMemberSettings(dataDirectory, "pggate-template", listenAddresses: "", options.Port, directory, null, osUser);
            var seconds = ((int)Math.Ceiling(options.StepTimeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            var start = await CommandRunner.RunAsync(
                osUser,
                installation.PgCtl,
                ["start", "-D", dataDirectory, "-l", log, "-w", "-t", seconds, "-s"],
                logger,
                CancellationToken.None,
                timeout: options.StepTimeout + TimeSpan.FromSeconds(10));
            start.ThrowIfFailed("start the template server", log);
            await Psql.RunAsync(
                installation,
                osUser,
                logger,
                directory,
                options.Port,
                "postgres",
                PrimaryBuilder.UsersAndDatabasesSql(options),
                "create users and databases in the template",
                log,
                options.StepTimeout,
                CancellationToken.None);
            var stop = await CommandRunner.RunAsync(
                osUser,
                installation.PgCtl,
                ["stop", "-D", dataDirectory, "-m", "fast", "-w", "-t", seconds, "-s"],
                logger,
                CancellationToken.None,
                timeout: options.StepTimeout + TimeSpan.FromSeconds(10));
            stop.ThrowIfFailed("stop the template server", log);
            return dataDirectory;
        }
        catch
        {
            Delete(directory, logger);
            throw;
        }
    }

    private static string KeyOf(PostgresInstallation installation, LocalClusterOptions options)
    {
        var key = new StringBuilder();
        key.Append(installation.BinDirectory).Append('\n');
        key.Append(options.SynchronousStandby).Append('\n');
        foreach (var user in options.Users)
        {
            key.Append(CultureInfo.InvariantCulture, $"u {user.Name.Length}:{user.Name} {user.Password.Length}:{user.Password} {user.Superuser} {user.Replication}");
            foreach (var role in user.MemberOf)
            {
                key.Append(CultureInfo.InvariantCulture, $" {role.Length}:{role}");
            }

            key.Append('\n');
        }

        foreach (var database in options.Databases)
        {
            key.Append(CultureInfo.InvariantCulture, $"d {database.Name.Length}:{database.Name} {database.Owner.Length}:{database.Owner}\n");
        }

        return key.ToString();
    }

    private static void InstallExitHook()
    {
        if (Interlocked.Exchange(ref s_exitHookInstalled, 1) == 0)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                foreach (var directory in Directories.Keys)
                {
                    Delete(directory, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
                }
            };
        }
    }

    private static void Delete(string directory, ILogger logger)
    {
        ProcessReaper.EndAllUsing(directory, TimeSpan.FromSeconds(2));
        PostmasterPidFile.RemoveStale(Path.Combine(directory, "data"));
        LeftoverSweeper.DeleteDirectory(directory, logger);
        Directories.TryRemove(directory, out _);
    }
}
