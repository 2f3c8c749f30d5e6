using System.Globalization;

namespace PgGate.Sandbox.Patroni;

/// <summary>
/// PostgreSQL's unix-socket lock file (<c>.s.PGSQL.&lt;port&gt;.lock</c>, first line the owner's PID). A SIGKILLed postmaster
/// leaves it behind; while its PID is still a zombie (this machine's init reaps orphans late), the next postmaster takes the
/// lock for a live server's and refuses to start ("lock file already exists"), so Patroni's restart fails until init
/// gets round to it. A lock whose PID is dead is what PostgreSQL itself would ignore.
/// </summary>
internal static class SocketLockFile
{
    /// <summary>Removes the lock file and socket when the PID in the lock is dead (gone or a zombie) and, if given, is
    /// <paramref name="onlyPid"/>; a lock of a live server is left alone.</summary>
    public static void RemoveStale(string socketDirectory, int port, int? onlyPid = null)
    {
        var socket = Path.Combine(socketDirectory, ".s.PGSQL." + port.ToString(CultureInfo.InvariantCulture));
        var lockFile = socket + ".lock";
        string? firstLine;
        try
        {
            firstLine = File.ReadLines(lockFile).FirstOrDefault();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }

        if (!int.TryParse(firstLine?.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var pid))
            return;
        pid = Math.Abs(pid);
        if ((onlyPid is int expected && pid != expected) || ProcFs.IsAlive(pid))
            return;
        foreach (var file in (string[])[lockFile, socket])
        {
            try
            {
                File.Delete(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone already, or a new server owns it now.
            }
        }
    }
}
