using System.Globalization;

namespace PgGate.Sandbox;

/// <summary>
/// The marker file in a sandbox's base directory naming the process that owns it (PID and start time, so a reused
/// PID does not count). A sandbox whose owner is gone is a leftover of a killed test run and may be cleaned up.
/// </summary>
internal sealed record SandboxOwner(int Pid, long StartTime)
{
    public const string FileName = "pggate-sandbox.owner";

    /// <summary>Where default base directories go, and the only place leftovers are swept from.</summary>
    public const string TempRoot = "/tmp";
    public const string DirectoryPrefix = "pggate-";

    public static SandboxOwner Current { get; } = new(Environment.ProcessId, ProcFs.StartTime(Environment.ProcessId) ?? 0);

    public bool IsAlive => ProcFs.IsAlive(Pid) && ProcFs.StartTime(Pid) == StartTime;

    public bool IsCurrentProcess => this == Current;

    public void WriteTo(string baseDirectory) =>
        File.WriteAllText(
            Path.Combine(baseDirectory, FileName),
            string.Create(CultureInfo.InvariantCulture, $"{Pid} {StartTime}\n"));

    public static SandboxOwner? ReadFrom(string baseDirectory)
    {
        try
        {
            var parts = File.ReadAllText(Path.Combine(baseDirectory, FileName)).Split(' ', StringSplitOptions.TrimEntries);
            return parts.Length == 2
                && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var startTime)
                ? new SandboxOwner(pid, startTime)
                : null;
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

    /// <summary>The sandbox base directory a path lies in, when it is a default one (<c>/tmp/pggate-*</c>).</summary>
    public static string? DefaultBaseDirectoryOf(string path)
    {
        var prefix = TempRoot + "/" + DirectoryPrefix;
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var end = path.IndexOf('/', prefix.Length);
        return end < 0 ? path : path[..end];
    }
}
