using System.Globalization;

namespace PgGate.IntegrationTests.Failover;

/// <summary>What one load saw through one stack in one failover.</summary>
/// <param name="PromotionToFirstWriteMs">Leader key names the new leader → first write acknowledged through the stack (null: no new leader).</param>
/// <param name="PostgresPromotedToFirstWriteMs">The new leader's PostgreSQL answers as primary (or the key change, whichever is
/// later) → first write through the stack: the routing layer's own share.</param>
/// <param name="FaultToFirstWriteMs">The fault → first write acknowledged after it (the outage an application sees).</param>
/// <param name="LongestWriteMs">Longest single write (a write hung on a dead server shows here).</param>
/// <param name="WriteOutageMs">Longest gap between two consecutive acknowledged writes from the last one before the fault on:
/// the write outage, also when a write or two still got through right after the fault.</param>
/// <param name="WrongServerWrites">Writes acknowledged after the promotion by a server other than the new leader (split brain: must be 0).</param>
public sealed record FailoverResult(
    string Scenario,
    string Stack,
    string OldLeader,
    string? NewLeader,
    double? PromotionToFirstWriteMs,
    double? PostgresPromotedToFirstWriteMs,
    double FaultToFirstWriteMs,
    int FailedWrites,
    int FailedReads,
    double LongestWriteMs,
    int DroppedConnections,
    int DroppedIdleConnections,
    int AckedWrites,
    int MissingAckedWrites,
    int WrongServerWrites,
    double WriteOutageMs)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Scenario} via {Stack}: {OldLeader} -> {NewLeader ?? "(same leader)"}; promotion->first write {Fmt(PromotionToFirstWriteMs)}, " +
        $"PG primary->first write {Fmt(PostgresPromotedToFirstWriteMs)}, fault->first write {FaultToFirstWriteMs:0} ms, write outage {WriteOutageMs:0} ms; failed writes {FailedWrites}, " +
        $"failed reads {FailedReads}, longest write {LongestWriteMs:0} ms, dropped connections {DroppedConnections} (+{DroppedIdleConnections} idle); " +
        $"acked {AckedWrites}, missing on new primary {MissingAckedWrites}, written to a non-leader {WrongServerWrites}");

    /// <summary>Tab-separated, for bench/failover/run.sh.</summary>
    public string ToTsv() => string.Join('\t',
        Scenario, Stack, OldLeader, NewLeader ?? "-", Fmt(PromotionToFirstWriteMs, false), Fmt(PostgresPromotedToFirstWriteMs, false),
        FaultToFirstWriteMs.ToString("0", CultureInfo.InvariantCulture), FailedWrites.ToString(CultureInfo.InvariantCulture),
        FailedReads.ToString(CultureInfo.InvariantCulture), LongestWriteMs.ToString("0", CultureInfo.InvariantCulture),
        DroppedConnections.ToString(CultureInfo.InvariantCulture), DroppedIdleConnections.ToString(CultureInfo.InvariantCulture),
        AckedWrites.ToString(CultureInfo.InvariantCulture), MissingAckedWrites.ToString(CultureInfo.InvariantCulture),
        WrongServerWrites.ToString(CultureInfo.InvariantCulture), WriteOutageMs.ToString("0", CultureInfo.InvariantCulture));

    private static string Fmt(double? ms, bool unit = true) =>
        ms is { } v ? v.ToString("0", CultureInfo.InvariantCulture) + (unit ? " ms" : "") : "-";
}
