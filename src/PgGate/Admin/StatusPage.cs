using System.Net;
using System.Text;
using PgGate.Cluster;
using PgGate.Hosting;

namespace PgGate.Admin;

/// <summary>The live status page: members with their checks, services with their servers; refreshes itself.</summary>
public static class StatusPage
{
    public static string Render(GateHost host, GateNode? node)
    {
        var sb = new StringBuilder(16384);
        sb.Append("""
            <!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
            <title>PgGate</title><style>
            body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
            table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
            th{background:#f3f3f3}.up{background:#d9f2d9}.down{background:#f7d4d4}.standby{background:#eef}
            .muted{color:#777}code{font-size:13px}
            </style></head><body>
            """);
        sb.Append("<h1>PgGate ").Append(E(node?.Name ?? "")).Append("</h1>");
        sb.Append("<p class=muted>started ").Append(host.StartedAt.ToString("u")).Append(" &middot; <a href=\"/api/status\">JSON</a> &middot; <a href=\"/metrics\">metrics</a></p>");
        if (node is null)
            return sb.Append("</body></html>").ToString();

        foreach (var monitor in node.Monitors)
        {
            var view = monitor.Current;
            sb.Append("<h2>cluster ").Append(E(view.Name)).Append("</h2><p>health source <b>")
              .Append(view.Config.Health.Source.ToString().ToLowerInvariant()).Append("</b>, leader <b>")
              .Append(E(view.Leader?.Name ?? "none")).Append("</b></p>");
            sb.Append("<table><tr><th>member</th><th>address</th><th>configured role</th><th>live role</th><th>lag</th><th>timeline</th><th>checks</th><th>error</th></tr>");
            foreach (var m in view.Members)
            {
                var f = m.Facts;
                sb.Append("<tr class=").Append(f.Reachable ? "up" : "down").Append("><td>").Append(E(m.Name)).Append("</td><td>")
                  .Append(E(m.Config.Host)).Append(':').Append(m.Config.PgPort).Append("</td><td>").Append(E(m.Config.Role))
                  .Append("</td><td>").Append(E(LiveRoles.LiveName(f) ?? "?")).Append(f.IsLeader ? " (leader)" : "")
                  .Append("</td><td>").Append(f.LagBytes?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "").Append("</td><td>")
                  .Append(f.Timeline?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "").Append("</td><td>");
                foreach (var c in m.Checks)
                {
                    sb.Append("<code class=").Append(c.IsUp ? "up" : "down").Append('>').Append(E(c.Spec.Path.Raw)).Append(' ')
                      .Append(c.IsUp ? "UP" : "DOWN").Append(' ').Append(c.Health).Append('/').Append(c.Spec.Rise + c.Spec.Fall - 1)
                      .Append(" <span class=muted>").Append(E(c.Recent)).Append("</span></code> ");
                }
                sb.Append("</td><td>").Append(E(f.Error ?? "")).Append("</td></tr>");
            }
            sb.Append("</table>");

            sb.Append("<table><tr><th>service</th><th>listen</th><th>dest</th><th>check</th><th>sessions</th><th>total</th><th>queue</th><th>refused</th><th>servers</th></tr>");
            foreach (var l in node.Listeners)
            {
                if (l.Router.Cluster.Name != view.Name)
                    continue;
                var r = l.Router;
                var set = r.Servers;
                var st = l.Stats;
                sb.Append("<tr><td>").Append(E(r.Name)).Append("</td><td>").Append(E(l.Endpoint.ToString())).Append("</td><td>")
                  .Append(E(r.Service.Dest.ToString())).Append("</td><td>").Append(E(r.Service.Check)).Append("</td><td>")
                  .Append(st.Active).Append("</td><td>").Append(st.Accepted).Append("</td><td>").Append(r.QueueLength).Append("</td><td>")
                  .Append(st.RefusedNoServer + st.RefusedBusy + st.RefusedMaxConn).Append("</td><td>");
                foreach (var e in set.Servers)
                {
                    var cls = set.IsUsable(e.State) ? "up" : e.IsUp ? "standby" : "down";
                    sb.Append("<code class=").Append(cls).Append('>').Append(E(e.Name)).Append(e.IsBackup ? " backup" : "")
                      .Append(' ').Append(cls == "up" ? "serving" : cls == "standby" ? "up" : "down").Append(" (").Append(e.State.Active)
                      .Append(")</code> ");
                }
                sb.Append("</td></tr>");
            }
            sb.Append("</table>");
        }
        PoolStatus.WriteHtml(sb, node);
        return sb.Append("</body></html>").ToString();
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
