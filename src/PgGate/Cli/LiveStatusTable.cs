using System.Text;
using PgGate.Cluster;
using PgGate.Hosting;

namespace PgGate.Cli;

/// <summary>Redraws a compact status table of members and services on the terminal every second.</summary>
internal static class LiveStatusTable
{
    public static async Task RunAsync(GateHost host, string header, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            do
            {
                Console.Out.Write("\u001b[H\u001b[2J" + header + Render(host));
                Console.Out.Flush();
            }
            while (await timer.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException)
        {
        }
    }

    public static string Render(GateHost host)
    {
        var sb = new StringBuilder();
        foreach (var monitor in host.Monitors)
        {
            var view = monitor.Current;
            sb.Append($"  {"member",-10} {"address",-16} {"config",-8} {"live",-8} {"lag",8}  checks\n");
            foreach (var m in view.Members)
            {
                var f = m.Facts;
                var live = f.Reachable ? (LiveRoles.LiveName(f) ?? "?") + (f.IsLeader ? "*" : "") : "DOWN";
                sb.Append($"  {m.Name,-10} {m.Config.Host + ":" + m.Config.PgPort,-16} {m.Config.Role,-8} {live,-8} {f.LagBytes?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "",8}  ");
                sb.Append(string.Join(" ", m.Checks.Select(c => $"{c.Spec.Path.Raw}:{(c.IsUp ? "UP" : "down")}")));
                sb.Append('\n');
            }
        }
        sb.Append('\n');
        sb.Append($"  {"node",-10} {"service",-8} {"serving",-30} {"sessions",8} {"total",8}\n");
        foreach (var node in host.Nodes)
        {
            foreach (var l in node.Listeners)
            {
                var set = l.Router.Servers;
                var serving = string.Join(",", set.Usable.Select(s => s.Name)) + (set.UsingBackups ? " (backup)" : "");
                sb.Append($"  {node.Name,-10} {l.Router.Service.Name,-8} {(serving.Length == 0 ? "-- none --" : serving),-30} {l.Stats.Active,8} {l.Stats.Accepted,8}\n");
            }
        }
        sb.Append("\n  ").Append(DateTime.Now.ToString("HH:mm:ss")).Append("  (* = leader)\n");
        return sb.ToString();
    }
}
