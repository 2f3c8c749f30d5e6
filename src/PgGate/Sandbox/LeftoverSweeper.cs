using Microsoft.Extensions.Logging;

namespace PgGate.Sandbox;

/// <summary>
/// Cleans up after sandboxes whose owning process died without disposing them (a killed test run): stops their
/// servers and deletes their directories, so the next run starts from a clean machine.
/// </summary>
internal static class LeftoverSweeper
{
    public static void Sweep(ILogger logger)
    {
        foreach (var directory in SandboxDirectories.EnumerateAll())
        {
            var owner = SandboxOwner.ReadFrom(directory);

            // No marker: not a sandbox of ours (or of a version without markers); leave it alone.
            if (owner is null || owner.IsAlive)
            {
                continue;
            }

            Remove(directory, $"its owner process {owner.Pid} is gone", logger);
        }
    }

    /// <summary>Stops whatever runs in a leftover sandbox directory and deletes it.</summary>
    public static void Remove(string baseDirectory, string reason, ILogger logger)
    {
        var pids = ProcFs.ProcessesUsing(baseDirectory);
        SandboxLog.RemovingLeftover(logger, baseDirectory, reason, pids.Count);
        if (!ProcessReaper.EndAllUsing(baseDirectory, TimeSpan.FromSeconds(5)))
        {
            SandboxLog.LeftoverSurvived(logger, baseDirectory);
            return;
        }

        foreach (var pidFile in SafeEnumerate(baseDirectory, PostmasterPidFile.FileName))
        {
            PostmasterPidFile.RemoveStale(Path.GetDirectoryName(pidFile)!);
        }

        DeleteDirectory(baseDirectory, logger);
    }

    public static void DeleteDirectory(string directory, ILogger logger)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (Directory.Exists(directory))
                {
                    Directory.Delete(directory, recursive: true);
                }

                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A server that just exited may still be removing its files; try again briefly.
                if (attempt == 5)
                {
                    SandboxLog.DeleteFailed(logger, e, directory);
                    return;
                }

                Thread.Sleep(100 * attempt);
            }
        }
    }

    private static IEnumerable<string> SafeEnumerate(string directory, string fileName)
    {
        try
        {
            return Directory.GetFiles(directory, fileName, SearchOption.AllDirectories);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
