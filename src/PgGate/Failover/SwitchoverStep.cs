using System.Globalization;

namespace PgGate.Failover;

/// <summary>One step of a switchover as reported: <c>pause</c>, <c>drain</c>, <c>switchover</c>, <c>promote</c>,
/// <c>leader</c>, <c>resume</c>.</summary>
public sealed record SwitchoverStep(string Name, bool Ok, double ElapsedMs, string Detail)
{
    /// <summary>One readable line: <c>pause       ok    12 ms  3 nodes: ...</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name,-10} {(Ok ? "ok" : "FAILED"),-6} {ElapsedMs,7:0} ms  {Detail}");
}
