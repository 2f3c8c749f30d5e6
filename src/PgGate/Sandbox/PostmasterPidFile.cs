using System.Globalization;
using System.Runtime.InteropServices;

namespace PgGate.Sandbox;

/// <summary>
/// <c>postmaster.pid</c>, the lock file a running server keeps in its data directory: line 1 is the postmaster's
/// PID, line 7 the key and id of its small System V shared memory segment.
/// </summary>
internal sealed record PostmasterPidFile(int Pid, long? ShmemKey, int? ShmemId)
{
    public const string FileName = "postmaster.pid";

    public static PostmasterPidFile? Read(string dataDirectory)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(Path.Combine(dataDirectory, FileName));
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        if (lines.Length == 0 || !int.TryParse(lines[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            return null;
        }

        long? key = null;
        int? id = null;
        if (lines.Length > 6)
        {
            var parts = lines[6].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2
                && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var k)
                && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var i))
            {
                key = k;
                id = i;
            }
        }

        return new PostmasterPidFile(pid, key, id);
    }

    /// <summary>
    /// Removes the lock file of a postmaster that is gone. A SIGKILLed postmaster cannot remove its SysV segment, and
    /// PostgreSQL only reclaims it on the next start from this very file, so the segment goes with the file.
    /// </summary>
    public static void RemoveStale(string dataDirectory)
    {
        var file = Read(dataDirectory);
        if (file is { ShmemKey: long key, ShmemId: int id })
        {
            RemoveOrphanedSegment(key, id);
        }

        try
        {
            File.Delete(Path.Combine(dataDirectory, FileName));
        }
        catch (IOException)
        {
            // Gone already.
        }
    }

    /// <summary>
    /// Removes the socket's lock file (<c>.s.PGSQL.&lt;port&gt;.lock</c>) when the postmaster it names is gone. PostgreSQL
    /// checks that PID with <c>kill(pid, 0)</c>, which succeeds for a zombie, so a SIGKILLed postmaster that init has
    /// not reaped yet would keep the next start from binding its socket.
    /// </summary>
    public static void RemoveStaleSocketLock(string socketDirectory, int port)
    {
        var path = Path.Combine(socketDirectory, $".s.PGSQL.{port.ToString(CultureInfo.InvariantCulture)}.lock");
        string? firstLine;
        try
        {
            firstLine = File.ReadLines(path).FirstOrDefault();
        }
        catch (IOException)
        {
            return;
        }
        catch (UnauthorizedAccessException)
        {
            return;
        }

        if (firstLine is not null
            && int.TryParse(firstLine.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            && ProcFs.IsAlive(pid))
        {
            return;
        }

        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Gone already.
        }
    }

    private static void RemoveOrphanedSegment(long key, int id)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines("/proc/sysvipc/shm");
        }
        catch (IOException)
        {
            return;
        }

        // Columns: key shmid perms size cpid lpid nattch ...; remove only the segment this file names, and only
        // when nothing is attached to it any more.
        for (var i = 1; i < lines.Length; i++)
        {
            var fields = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 6
                && long.TryParse(fields[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var segmentKey)
                && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var segmentId)
                && segmentKey == key && segmentId == id && fields[6] == "0")
            {
                if (NativeMethods.Shmctl(id, NativeMethods.IpcRmid, 0) != 0)
                {
                    _ = Marshal.GetLastPInvokeError();
                }

                return;
            }
        }
    }
}
