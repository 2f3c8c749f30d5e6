using System.Text.Json;
using PgGate.Cluster;
using PgGate.Hosting;
using PgGate.Services;

namespace PgGate.Admin;

/// <summary>The JSON status of a node: every cluster's members with their checks, every service with its servers.</summary>
public static class StatusJson
{
    public static byte[] Render(GateHost host, GateNode? node)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("node", node?.Name);
            w.WriteString("started_at", host.StartedAt);
            w.WriteString("now", DateTimeOffset.UtcNow);
            w.WriteStartArray("clusters");
            if (node is not null)
            {
                foreach (var monitor in node.Monitors)
                    WriteCluster(w, monitor, node);
            }
            w.WriteEndArray();
            if (node is not null)
                PoolStatus.WriteJson(w, node);
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    private static void WriteCluster(Utf8JsonWriter w, ClusterMonitor monitor, GateNode node)
    {
        var view = monitor.Current;
        w.WriteStartObject();
        w.WriteString("name", view.Name);
        w.WriteString("health_source", view.Config.Health.Source.ToString().ToLowerInvariant());
        w.WriteString("leader", view.Leader?.Name);
        w.WriteNumber("view_version", view.Version);
        w.WriteString("view_at", view.PublishedAt);
        w.WriteStartArray("members");
        foreach (var m in view.Members)
            WriteMember(w, m);
        w.WriteEndArray();
        w.WriteStartArray("services");
        foreach (var l in node.Listeners)
        {
            if (l.Router.Cluster.Name == view.Name)
                WriteService(w, l);
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteMember(Utf8JsonWriter w, MemberView m)
    {
        var f = m.Facts;
        w.WriteStartObject();
        w.WriteString("name", m.Name);
        w.WriteString("host", m.Config.Host);
        w.WriteNumber("port", m.Config.PgPort);
        w.WriteString("configured_role", m.Config.Role);
        w.WriteString("live_role", LiveRoles.LiveName(f));
        w.WriteString("effective_role", m.EffectiveRole);
        w.WriteBoolean("reachable", f.Reachable);
        w.WriteBoolean("running", f.Running);
        w.WriteBoolean("leader", f.IsLeader);
        WriteNullable(w, "lag_bytes", f.LagBytes);
        WriteNullable(w, "timeline", f.Timeline);
        if (f.Lsn is { } lsn)
            w.WriteString("lsn", FormatLsn(lsn));
        else
            w.WriteNull("lsn");
        w.WriteBoolean("sync_standby", f.IsSyncStandby);
        w.WriteString("replication_state", f.ReplicationState);
        w.WriteString("error", f.Error);
        w.WriteString("observed_at", f.ObservedAt == default ? null : f.ObservedAt.ToString("O"));
        w.WriteStartArray("checks");
        foreach (var c in m.Checks)
        {
            w.WriteStartObject();
            w.WriteString("check", c.Spec.Path.Raw);
            w.WriteNumber("rise", c.Spec.Rise);
            w.WriteNumber("fall", c.Spec.Fall);
            w.WriteBoolean("up", c.IsUp);
            w.WriteString("phase", c.Phase.ToString().ToLowerInvariant());
            w.WriteNumber("health", c.Health);
            w.WriteString("last_change", c.LastChange?.ToString("O"));
            w.WriteString("recent", c.Recent);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteService(Utf8JsonWriter w, ServiceListener l)
    {
        var r = l.Router;
        var s = r.Service;
        var set = r.Servers;
        var st = l.Stats;
        w.WriteStartObject();
        w.WriteString("name", r.Name);
        w.WriteString("service", s.Name);
        w.WriteString("listen", l.Endpoint.ToString());
        w.WriteString("dest", s.Dest.ToString());
        w.WriteBoolean("pooled", l.Pooler is not null);
        w.WriteString("check", s.Check);
        w.WriteString("balance", s.Balance.ToString().ToLowerInvariant());
        w.WriteNumber("maxconn", s.MaxConn);
        w.WriteBoolean("using_backups", set.UsingBackups);
        w.WriteNumber("sessions", st.Active);
        w.WriteNumber("sessions_total", st.Accepted);
        w.WriteNumber("queue", r.QueueLength);
        w.WriteNumber("queued_total", r.QueuedTotal);
        w.WriteNumber("queue_timeouts", r.QueueTimeouts);
        w.WriteNumber("refused_no_server", st.RefusedNoServer);
        w.WriteNumber("refused_busy", st.RefusedBusy);
        w.WriteNumber("refused_maxconn", st.RefusedMaxConn);
        w.WriteNumber("connect_errors", st.ConnectErrors);
        w.WriteNumber("retries", st.Retries);
        w.WriteNumber("sessions_shut_down", st.ShutdownSessions);
        w.WriteNumber("bytes_in", st.BytesIn);
        w.WriteNumber("bytes_out", st.BytesOut);
        w.WriteStartArray("servers");
        foreach (var e in set.Servers)
        {
            w.WriteStartObject();
            w.WriteString("name", e.Name);
            w.WriteString("address", $"{e.State.Member.Host}:{s.Dest.PortOn(e.State.Member)}");
            w.WriteBoolean("backup", e.IsBackup);
            w.WriteBoolean("up", e.IsUp);
            w.WriteBoolean("serving", set.IsUsable(e.State));
            w.WriteNumber("weight", e.State.ConfiguredWeight);
            w.WriteNumber("sessions", e.State.Active);
            w.WriteNumber("sessions_total", e.State.TotalSessions);
            w.WriteNumber("connect_errors", e.State.FailedConnects);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, long? value)
    {
        if (value is { } v)
            w.WriteNumber(name, v);
        else
            w.WriteNull(name);
    }

    public static string FormatLsn(ulong lsn) => $"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}";
}
