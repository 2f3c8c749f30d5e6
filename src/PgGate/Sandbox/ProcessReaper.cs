namespace PgGate.Sandbox;

/// <summary>
/// Ends PostgreSQL processes by force when asking nicely (<c>pg_ctl stop</c>) is not possible or did not work:
/// SIGQUIT first (PostgreSQL's immediate shutdown, which still releases shared memory), SIGKILL after a grace period.
/// </summary>
internal static class ProcessReaper
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    /// <summary>Ends every process working in <paramref name="directory"/>; true when none is left.</summary>
    public static bool EndAllUsing(string directory, TimeSpan grace)
    {
        var pids = ProcFs.ProcessesUsing(directory);
        if (pids.Count == 0)
        {
            return true;
        }

        Signal(pids, NativeMethods.SigQuit);
        if (WaitUntilGone(directory, grace))
        {
            return true;
        }

        Signal(ProcFs.ProcessesUsing(directory), NativeMethods.SigKill);
        return WaitUntilGone(directory, TimeSpan.FromSeconds(5));
    }

    /// <summary>Waits for the processes left over after a postmaster died; SIGKILLs them when they linger.</summary>
    public static bool AwaitOrphans(string directory, TimeSpan grace)
    {
        if (WaitUntilGone(directory, grace))
        {
            return true;
        }

        Signal(ProcFs.ProcessesUsing(directory), NativeMethods.SigKill);
        return WaitUntilGone(directory, TimeSpan.FromSeconds(5));
    }

    public static bool WaitUntilDead(int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (ProcFs.IsAlive(pid))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            Thread.Sleep(Poll);
        }

        return true;
    }

    private static bool WaitUntilGone(string directory, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (ProcFs.ProcessesUsing(directory).Count > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            Thread.Sleep(Poll);
        }

        return true;
    }

    private static void Signal(List<int> pids, int signal)
    {
        foreach (var pid in pids)
        {
            _ = NativeMethods.Kill(pid, signal);
        }
    }
}
