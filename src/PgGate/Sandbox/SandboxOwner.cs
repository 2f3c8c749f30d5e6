using System.Globalization;

namespace PgGate.Sandbox;

/// <summary>
/// The marker file in a sandbox's base directory naming the process that owns it (PID and start time, so a reused
/// PID does not count). A sandbox whose owner is gone is a leftover of a killed test run and may be cleaned up.
/// </summary>
internal sealed record SandboxOwner(int Pid, long StartTime)
{
    public const string FileName = "pggate-sandbox.owner";

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
}
