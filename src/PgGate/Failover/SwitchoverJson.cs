using System.Text.Json;

namespace PgGate.Failover;

/// <summary>The admin API's JSON for pauses and switchover reports, written and read by hand (no reflection).</summary>
public static class SwitchoverJson
{
    public static void WritePause(Utf8JsonWriter w, PauseOutcome o)
    {
        w.WriteStartObject();
        w.WriteString("node", o.Node);
        w.WriteStartArray("paused");
        foreach (var p in o.Paused)
            w.WriteStringValue(p);
        w.WriteEndArray();
        w.WriteStartObject("still_running");
        foreach (var (name, count) in o.StillRunning)
            w.WriteNumber(name, count);
        w.WriteEndObject();
        w.WriteBoolean("drained", o.Drained);
        w.WriteNumber("elapsed_ms", Math.Round(o.ElapsedMs, 1));
        w.WriteEndObject();
    }

    public static PauseOutcome ReadPause(JsonElement e)
    {
        var paused = new List<string>();
        if (e.TryGetProperty("paused", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var p in list.EnumerateArray())
                paused.Add(p.GetString() ?? "");
        }
        var still = new Dictionary<string, int>(StringComparer.Ordinal);
        if (e.TryGetProperty("still_running", out var s) && s.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in s.EnumerateObject())
                still[p.Name] = p.Value.GetInt32();
        }
        return new PauseOutcome(
            e.TryGetProperty("node", out var n) ? n.GetString() ?? "" : "",
            paused,
            still,
            !e.TryGetProperty("drained", out var d) || d.ValueKind != JsonValueKind.False,
            e.TryGetProperty("elapsed_ms", out var ms) ? ms.GetDouble() : 0);
    }

    public static byte[] Report(SwitchoverReport r)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteBoolean("ok", r.Ok);
            w.WriteString("old_leader", r.OldLeader);
            w.WriteString("new_leader", r.NewLeader);
            w.WriteString("error", r.Error);
            w.WriteNumber("total_ms", Math.Round(r.TotalMs, 1));
            w.WriteStartArray("steps");
            foreach (var s in r.Steps)
            {
                w.WriteStartObject();
                w.WriteString("step", s.Name);
                w.WriteBoolean("ok", s.Ok);
                w.WriteNumber("elapsed_ms", Math.Round(s.ElapsedMs, 1));
                w.WriteString("detail", s.Detail);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return stream.ToArray();
    }
}
