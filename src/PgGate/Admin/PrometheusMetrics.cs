using PgGate.Cluster;
using PgGate.Hosting;

namespace PgGate.Admin;

/// <summary>
/// <c>/metrics</c> in Prometheus text format 0.0.4, rendered from the same counters and views as the
/// status page and JSON, so every surface shows the same numbers.
/// </summary>
public static class PrometheusMetrics
{
    public static string Render(GateHost host, GateNode? node)
    {
        var sb = new MetricsWriter();
        if (node is null)
            return "";
        var nodeLabel = node.Name;

        sb.Family("pggate_up", "gauge", "1 while this PgGate node runs.");
        sb.Sample("pggate_up", [("node", nodeLabel)], 1);
        sb.Family("pggate_start_time_seconds", "gauge", "Start time of this PgGate process, seconds since the epoch.");
        sb.Sample("pggate_start_time_seconds", [("node", nodeLabel)], host.StartedAt.ToUnixTimeMilliseconds() / 1000.0);

        sb.Family("pggate_member_reachable", "gauge", "1 if the last probe reached the member.");
        sb.Family("pggate_member_leader", "gauge", "1 if the member holds leadership.");
        sb.Family("pggate_member_role", "gauge", "1 for the member's live role.");
        sb.Family("pggate_member_lag_bytes", "gauge", "Replay lag behind the leader in bytes.");
        sb.Family("pggate_member_timeline", "gauge", "Current timeline of the member.");
        sb.Family("pggate_check_up", "gauge", "1 if the member passes the check (after rise/fall).");
        sb.Family("pggate_check_health", "gauge", "HAProxy-style health counter of the check (0 .. rise+fall-1).");
        foreach (var monitor in node.Monitors)
        {
            var view = monitor.Current;
            foreach (var m in view.Members)
            {
                (string, string)[] labels = [("node", nodeLabel), ("cluster", view.Name), ("member", m.Name)];
                sb.Sample("pggate_member_reachable", labels, m.Facts.Reachable ? 1 : 0);
                sb.Sample("pggate_member_leader", labels, m.Facts.IsLeader ? 1 : 0);
                sb.Sample("pggate_member_role", [.. labels, ("role", LiveRoles.LiveName(m.Facts) ?? "unknown")], 1);
                if (m.Facts.LagBytes is { } lag)
                    sb.Sample("pggate_member_lag_bytes", labels, lag);
                if (m.Facts.Timeline is { } tl)
                    sb.Sample("pggate_member_timeline", labels, tl);
                foreach (var c in m.Checks)
                {
                    (string, string)[] cl = [.. labels, ("check", c.Spec.Path.Raw)];
                    sb.Sample("pggate_check_up", cl, c.IsUp ? 1 : 0);
                    sb.Sample("pggate_check_health", cl, c.Health);
                }
            }
        }

        sb.Family("pggate_service_sessions", "gauge", "Client sessions open now.");
        sb.Family("pggate_service_sessions_total", "counter", "Client connections accepted.");
        sb.Family("pggate_service_refused_total", "counter", "Clients refused, by reason.");
        sb.Family("pggate_service_queue", "gauge", "Clients waiting for a server.");
        sb.Family("pggate_service_queue_timeouts_total", "counter", "Clients that waited the whole queue timeout.");
        sb.Family("pggate_service_connect_errors_total", "counter", "Failed connection attempts to servers.");
        sb.Family("pggate_service_retries_total", "counter", "Connection attempts retried on another server.");
        sb.Family("pggate_service_sessions_shut_down_total", "counter", "Sessions closed because their server went down or left.");
        sb.Family("pggate_service_bytes_in_total", "counter", "Bytes from clients to servers.");
        sb.Family("pggate_service_bytes_out_total", "counter", "Bytes from servers to clients.");
        sb.Family("pggate_service_using_backups", "gauge", "1 when no normal server is up and backups serve.");
        sb.Family("pggate_server_up", "gauge", "1 if the server passes the service's check.");
        sb.Family("pggate_server_serving", "gauge", "1 if the server takes new sessions now.");
        sb.Family("pggate_server_sessions", "gauge", "Sessions on the server now.");
        sb.Family("pggate_server_sessions_total", "counter", "Sessions given to the server.");
        sb.Family("pggate_server_connect_errors_total", "counter", "Failed connection attempts to the server.");
        foreach (var l in node.Listeners)
        {
            var r = l.Router;
            var st = l.Stats;
            (string, string)[] labels = [("node", nodeLabel), ("cluster", r.Cluster.Name), ("service", r.Service.Name)];
            sb.Sample("pggate_service_sessions", labels, st.Active);
            sb.Sample("pggate_service_sessions_total", labels, st.Accepted);
            sb.Sample("pggate_service_refused_total", [.. labels, ("reason", "no_server")], st.RefusedNoServer);
            sb.Sample("pggate_service_refused_total", [.. labels, ("reason", "busy")], st.RefusedBusy);
            sb.Sample("pggate_service_refused_total", [.. labels, ("reason", "maxconn")], st.RefusedMaxConn);
            sb.Sample("pggate_service_queue", labels, r.QueueLength);
            sb.Sample("pggate_service_queue_timeouts_total", labels, r.QueueTimeouts);
            sb.Sample("pggate_service_connect_errors_total", labels, st.ConnectErrors);
            sb.Sample("pggate_service_retries_total", labels, st.Retries);
            sb.Sample("pggate_service_sessions_shut_down_total", labels, st.ShutdownSessions);
            sb.Sample("pggate_service_bytes_in_total", labels, st.BytesIn);
            sb.Sample("pggate_service_bytes_out_total", labels, st.BytesOut);
            var set = r.Servers;
            sb.Sample("pggate_service_using_backups", labels, set.UsingBackups ? 1 : 0);
            foreach (var e in set.Servers)
            {
                (string, string)[] sl = [.. labels, ("server", e.Name), ("backup", e.IsBackup ? "1" : "0")];
                sb.Sample("pggate_server_up", sl, e.IsUp ? 1 : 0);
                sb.Sample("pggate_server_serving", sl, set.IsUsable(e.State) ? 1 : 0);
                sb.Sample("pggate_server_sessions", sl, e.State.Active);
                sb.Sample("pggate_server_sessions_total", sl, e.State.TotalSessions);
                sb.Sample("pggate_server_connect_errors_total", sl, e.State.FailedConnects);
            }
        }
        PoolStatus.WriteMetrics(sb, node);
        return sb.ToString();
    }
}
