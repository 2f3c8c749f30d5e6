using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using PgGate.Hosting;
using PgGate.Pooling;

namespace PgGate.Admin;

/// <summary>
/// The node's poolers in the JSON status, <c>/metrics</c> (<c>pggate_pool_*</c>, <c>pggate_pooler_*</c>) and the status
/// page, from <see cref="Pooler.GetPools"/> (the numbers SHOW POOLS and SHOW STATS report). A pool is one (front door,
/// backend, database, user): the front door is a <c>dest: pool</c> service or <c>pooler</c> for the pooler's own port.
/// </summary>
public static class PoolStatus
{
    public const string PoolerPortName = "pooler";

    public static string FrontDoor(PoolInfo pool) => pool.FrontDoor ?? PoolerPortName;

    public static void WriteJson(Utf8JsonWriter w, GateNode node)
    {
        w.WriteStartArray("poolers");
        foreach (var p in node.Poolers)
        {
            var pooler = p.Pooler;
            w.WriteStartObject();
            w.WriteString("member", p.Member?.Name);
            w.WriteStartArray("listen");
            foreach (var l in p.Listeners)
                w.WriteStringValue(l.Endpoint.ToString());
            w.WriteEndArray();
            w.WriteStartArray("services");
            foreach (var s in p.Services)
                w.WriteStringValue(s.Router.Name);
            w.WriteEndArray();
            w.WriteString("pool_mode", pooler.Settings.PoolMode.ToString().ToLowerInvariant());
            w.WriteNumber("clients", pooler.ClientCount);
            w.WriteNumber("logins_total", pooler.Logins);
            w.WriteNumber("auth_failures_total", pooler.AuthenticationFailures);
            w.WriteNumber("protocol_errors_total", pooler.ProtocolErrors);
            w.WriteStartArray("pools");
            foreach (var pool in pooler.GetPools())
            {
                var st = pool.Stats;
                w.WriteStartObject();
                w.WriteString("front_door", FrontDoor(pool));
                w.WriteString("database", pool.Database);
                w.WriteString("user", pool.User);
                w.WriteString("backend", pool.Backend);
                w.WriteString("backend_name", pool.BackendName);
                w.WriteString("pool_mode", pool.PoolMode.ToString().ToLowerInvariant());
                w.WriteBoolean("paused", pool.Paused);
                w.WriteNumber("cl_active", pool.ClientsActive);
                w.WriteNumber("cl_waiting", pool.ClientsWaiting);
                w.WriteNumber("sv_active", pool.ServersActive);
                w.WriteNumber("sv_idle", pool.ServersIdle);
                w.WriteNumber("sv_used", pool.ServersUsed);
                w.WriteNumber("sv_login", pool.ServersLogin);
                w.WriteNumber("maxwait_us", (long)(pool.MaxWait.Ticks / 10));
                w.WriteNumber("total_xact_count", st.TransactionCount);
                w.WriteNumber("total_query_count", st.QueryCount);
                w.WriteNumber("total_received", st.BytesReceived);
                w.WriteNumber("total_sent", st.BytesSent);
                w.WriteNumber("total_xact_time", st.TransactionTime);
                w.WriteNumber("total_query_time", st.QueryTime);
                w.WriteNumber("total_wait_time", st.WaitTime);
                w.WriteNumber("server_login_failures", st.ServerLoginFailures);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public static void WriteMetrics(MetricsWriter sb, GateNode node)
    {
        sb.Family("pggate_pooler_clients", "gauge", "Clients connected to the pooler (pooler port and dest: pool services), including those logging in.");
        sb.Family("pggate_pooler_logins_total", "counter", "Successful client logins.");
        sb.Family("pggate_pooler_auth_failures_total", "counter", "Client authentications that failed.");
        sb.Family("pggate_pooler_protocol_errors_total", "counter", "Clients dropped for breaking the protocol.");
        sb.Family("pggate_pool_clients_active", "gauge", "Clients of the pool not waiting for a server (cl_active).");
        sb.Family("pggate_pool_clients_waiting", "gauge", "Clients waiting for a server connection (cl_waiting).");
        sb.Family("pggate_pool_servers_active", "gauge", "Server connections linked to a client (sv_active).");
        sb.Family("pggate_pool_servers_idle", "gauge", "Server connections idle in the pool (sv_idle).");
        sb.Family("pggate_pool_servers_used", "gauge", "Server connections being cleaned before reuse (sv_used).");
        sb.Family("pggate_pool_servers_login", "gauge", "Server connections logging in (sv_login).");
        sb.Family("pggate_pool_max_wait_seconds", "gauge", "How long the oldest waiting client has waited (maxwait).");
        sb.Family("pggate_pool_transactions_total", "counter", "Transactions completed (total_xact_count).");
        sb.Family("pggate_pool_queries_total", "counter", "Queries completed (total_query_count).");
        sb.Family("pggate_pool_transaction_seconds_total", "counter", "Time spent in transactions (total_xact_time).");
        sb.Family("pggate_pool_query_seconds_total", "counter", "Time spent in queries (total_query_time).");
        sb.Family("pggate_pool_wait_seconds_total", "counter", "Time clients spent waiting for a server (total_wait_time).");
        sb.Family("pggate_pool_bytes_received_total", "counter", "Bytes received from clients (total_received).");
        sb.Family("pggate_pool_bytes_sent_total", "counter", "Bytes sent to clients (total_sent).");
        sb.Family("pggate_pool_server_login_failures_total", "counter", "Server connections that failed to open or log in.");
        foreach (var p in node.Poolers)
        {
            var pooler = p.Pooler;
            (string, string)[] nodeLabels = [("node", node.Name), ("member", p.Member?.Name ?? "")];
            sb.Sample("pggate_pooler_clients", nodeLabels, pooler.ClientCount);
            sb.Sample("pggate_pooler_logins_total", nodeLabels, pooler.Logins);
            sb.Sample("pggate_pooler_auth_failures_total", nodeLabels, pooler.AuthenticationFailures);
            sb.Sample("pggate_pooler_protocol_errors_total", nodeLabels, pooler.ProtocolErrors);
            foreach (var pool in pooler.GetPools())
            {
                var st = pool.Stats;
                (string, string)[] l =
                [
                    ("node", node.Name), ("front_door", FrontDoor(pool)), ("database", pool.Database), ("user", pool.User),
                    ("backend", pool.BackendName ?? pool.Backend),
                ];
                sb.Sample("pggate_pool_clients_active", l, pool.ClientsActive);
                sb.Sample("pggate_pool_clients_waiting", l, pool.ClientsWaiting);
                sb.Sample("pggate_pool_servers_active", l, pool.ServersActive);
                sb.Sample("pggate_pool_servers_idle", l, pool.ServersIdle);
                sb.Sample("pggate_pool_servers_used", l, pool.ServersUsed);
                sb.Sample("pggate_pool_servers_login", l, pool.ServersLogin);
                sb.Sample("pggate_pool_max_wait_seconds", l, pool.MaxWait.TotalSeconds);
                sb.Sample("pggate_pool_transactions_total", l, st.TransactionCount);
                sb.Sample("pggate_pool_queries_total", l, st.QueryCount);
                sb.Sample("pggate_pool_transaction_seconds_total", l, st.TransactionTime / 1e6);
                sb.Sample("pggate_pool_query_seconds_total", l, st.QueryTime / 1e6);
                sb.Sample("pggate_pool_wait_seconds_total", l, st.WaitTime / 1e6);
                sb.Sample("pggate_pool_bytes_received_total", l, st.BytesReceived);
                sb.Sample("pggate_pool_bytes_sent_total", l, st.BytesSent);
                sb.Sample("pggate_pool_server_login_failures_total", l, st.ServerLoginFailures);
            }
        }
    }

    public static void WriteHtml(StringBuilder sb, GateNode node)
    {
        foreach (var p in node.Poolers)
        {
            var pooler = p.Pooler;
            sb.Append("<h2>pooler</h2><p>");
            if (p.Listeners.Count > 0)
            {
                sb.Append("listen <b>");
                for (var i = 0; i < p.Listeners.Count; i++)
                    sb.Append(i == 0 ? "" : ", ").Append(E(p.Listeners[i].Endpoint.ToString()));
                sb.Append("</b> &rarr; ").Append(E(p.Member?.Name ?? "")).Append(" &middot; ");
            }
            sb.Append("pool_mode <b>").Append(pooler.Settings.PoolMode.ToString().ToLowerInvariant()).Append("</b> &middot; clients <b>")
              .Append(pooler.ClientCount).Append("</b> &middot; logins ").Append(pooler.Logins).Append(" &middot; auth failures ")
              .Append(pooler.AuthenticationFailures).Append("</p>");
            sb.Append("<table><tr><th>front door</th><th>database</th><th>user</th><th>backend</th><th>mode</th><th>cl_active</th><th>cl_waiting</th>")
              .Append("<th>sv_active</th><th>sv_idle</th><th>sv_used</th><th>maxwait</th><th>xacts</th><th>queries</th><th>avg wait</th><th>bytes in/out</th></tr>");
            foreach (var pool in pooler.GetPools())
            {
                var st = pool.Stats;
                var avgWait = st.TransactionCount == 0 ? 0 : st.WaitTime / (double)st.TransactionCount;
                sb.Append("<tr class=").Append(pool.ClientsWaiting > 0 ? "standby" : pool.ServersActive + pool.ServersIdle > 0 ? "up" : "muted").Append("><td>")
                  .Append(E(FrontDoor(pool))).Append("</td><td>").Append(E(pool.Database)).Append("</td><td>").Append(E(pool.User))
                  .Append("</td><td>").Append(E(pool.BackendName is { } name ? name + " " + pool.Backend : pool.Backend)).Append("</td><td>")
                  .Append(pool.PoolMode.ToString().ToLowerInvariant()).Append(pool.Paused ? " (paused)" : "").Append("</td><td>")
                  .Append(pool.ClientsActive).Append("</td><td>").Append(pool.ClientsWaiting).Append("</td><td>").Append(pool.ServersActive)
                  .Append("</td><td>").Append(pool.ServersIdle).Append("</td><td>").Append(pool.ServersUsed).Append("</td><td>")
                  .Append(pool.MaxWait.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)).Append("s</td><td>")
                  .Append(st.TransactionCount).Append("</td><td>").Append(st.QueryCount).Append("</td><td>")
                  .Append(avgWait.ToString("0", CultureInfo.InvariantCulture)).Append(" &micro;s</td><td>")
                  .Append(st.BytesReceived).Append(" / ").Append(st.BytesSent).Append("</td></tr>");
            }
            sb.Append("</table>");
        }
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
