using System.Globalization;
using System.Net;

namespace PgGate.Sandbox;

/// <summary>
/// What Linux's /proc says about processes. The sandbox finds its PostgreSQL processes by their working directory:
/// the postmaster and every backend it forks chdir into the data directory, so a process whose cwd is a data
/// directory is using it, whoever its parent is (orphans are re-parented to init).
/// </summary>
internal static class ProcFs
{
    private const string DeletedSuffix = " (deleted)";

    /// <summary>True while the process exists and is not a zombie (PID 1 here reaps orphans only now and then).</summary>
    public static bool IsAlive(int pid)
    {
        var state = State(pid);
        return state is not null && state != 'Z' && state != 'X';
    }

    public static char? State(int pid)
    {
        var stat = ReadStat(pid);
        if (stat is null)
        {
            return null;
        }

        var end = stat.LastIndexOf(')');
        return end >= 0 && end + 2 < stat.Length ? stat[end + 2] : null;
    }

    /// <summary>Start time in clock ticks since boot: with the PID it names a process even after PID reuse.</summary>
    public static long? StartTime(int pid)
    {
        var stat = ReadStat(pid);
        if (stat is null)
        {
            return null;
        }

        // Fields after the ")" of the command name: state is field 3, starttime field 22.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return fields.Length > 19 && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            ? ticks
            : null;
    }

    /// <summary>The process's working directory, or null when it is gone or not ours to see.</summary>
    public static string? WorkingDirectory(int pid)
    {
        try
        {
            var target = new DirectoryInfo($"/proc/{pid}/cwd").LinkTarget;
            if (target is null)
            {
                return null;
            }

            return target.EndsWith(DeletedSuffix, StringComparison.Ordinal) ? target[..^DeletedSuffix.Length] : target;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>Live processes whose working directory is <paramref name="directory"/> or below it.</summary>
    public static List<int> ProcessesUsing(string directory)
    {
        var prefix = directory.TrimEnd('/') + "/";
        var pids = new List<int>();
        foreach (var pid in AllPids())
        {
            var cwd = WorkingDirectory(pid);
            if (cwd is not null && (cwd == directory || cwd.StartsWith(prefix, StringComparison.Ordinal)) && IsAlive(pid))
            {
                pids.Add(pid);
            }
        }

        return pids;
    }

    /// <summary>Processes holding a TCP socket that listens on the address and port (or on the wildcard address).</summary>
    public static List<int> ListenersOn(IPAddress address, int port)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        CollectListeningInodes("/proc/net/tcp", address, port, inodes);
        CollectListeningInodes("/proc/net/tcp6", address, port, inodes);
        var owners = new List<int>();
        if (inodes.Count == 0)
        {
            return owners;
        }

        foreach (var pid in AllPids())
        {
            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
                {
                    var target = new FileInfo(fd).LinkTarget;
                    if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal)
                        && inodes.Contains(target[8..^1]))
                    {
                        owners.Add(pid);
                        break;
                    }
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
            catch (UnauthorizedAccessException)
            {
                // Not ours to inspect (non-root); the caller reports the address as taken by an unknown process.
            }
        }

        return owners;
    }

    private static void CollectListeningInodes(string table, IPAddress address, int port, HashSet<string> inodes)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(table);
        }
        catch (IOException)
        {
            return;
        }

        const string Listen = "0A";
        for (var i = 1; i < lines.Length; i++)
        {
            var fields = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 10 || fields[3] != Listen)
            {
                continue;
            }

            var local = fields[1];
            var colon = local.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0 || int.Parse(local.AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture) != port)
            {
                continue;
            }

            var listening = ParseProcAddress(local.AsSpan(0, colon));
            if (listening is not null && Covers(listening, address))
            {
                inodes.Add(fields[9]);
            }
        }
    }

    private static bool Covers(IPAddress listening, IPAddress wanted)
    {
        if (listening.Equals(IPAddress.Any) || listening.Equals(IPAddress.IPv6Any))
        {
            return true;
        }

        if (listening.IsIPv4MappedToIPv6)
        {
            listening = listening.MapToIPv4();
        }

        return listening.Equals(wanted);
    }

    /// <summary>/proc/net/tcp prints each 32-bit word of the address in host byte order.</summary>
    private static IPAddress? ParseProcAddress(ReadOnlySpan<char> hex)
    {
        if (hex.Length != 8 && hex.Length != 32)
        {
            return null;
        }

        var bytes = new byte[hex.Length / 2];
        for (var word = 0; word < hex.Length / 8; word++)
        {
            var value = uint.Parse(hex.Slice(word * 8, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var wordBytes = BitConverter.GetBytes(value);
            if (!BitConverter.IsLittleEndian)
            {
                Array.Reverse(wordBytes);
            }

            // In memory the word holds the address bytes in network order; on little-endian hosts GetBytes restores that.
            wordBytes.CopyTo(bytes, word * 4);
        }

        return new IPAddress(bytes);
    }

    private static IEnumerable<int> AllPids()
    {
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(entry.AsSpan()), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                yield return pid;
            }
        }
    }

    private static string? ReadStat(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
