using System.CommandLine;
using System.Globalization;
using PgGate.Config;
using PgGate.Failover;

namespace PgGate.Cli;

/// <summary>
/// <c>pggate switchover &lt;cluster&gt; [--to member]</c>: a planned leader change clients do not notice. Reads the
/// configuration (native or <c>--inventory</c>) to find every PgGate node of the cluster, pauses each through its admin
/// API, has Patroni switch over (or runs <c>--promote-command</c>), waits for every node to route writes to the new leader,
/// and resumes every node whatever happened. One line per step; exit 1 with one line on failure.
/// </summary>
internal static class SwitchoverCommand
{
    public static Command Create()
    {
        var source = new ConfigOptions();
        var cluster = new Argument<string>("cluster") { Description = "Cluster name, e.g. pg-test." };
        var to = new Option<string?>("--to") { Description = "Member to promote (Patroni picks the healthiest replica when omitted)." };
        var scheduledAt = new Option<string?>("--scheduled-at")
        {
            Description = "Hand the switchover to Patroni for this time (ISO 8601) instead of now. PgGate then follows it like a failover (no pause).",
        };
        var drain = new Option<double>("--drain-timeout")
        {
            Description = "Seconds running pooled transactions may take to finish once new ones are paused.",
            DefaultValueFactory = _ => 10,
        };
        var leaderTimeout = new Option<double>("--leader-timeout")
        {
            Description = "Seconds every node may take to route writes to the new leader after the promotion.",
            DefaultValueFactory = _ => 60,
        };
        var promote = new Option<string?>("--promote-command")
        {
            Description = "Without Patroni: shell command that promotes the candidate (env PGGATE_CANDIDATE, PGGATE_CANDIDATE_HOST, " +
                          "PGGATE_CANDIDATE_PORT, PGGATE_OLD_PRIMARY, PGGATE_OLD_PRIMARY_HOST, PGGATE_OLD_PRIMARY_PORT, PGGATE_CLUSTER). " +
                          "The old primary is fenced (no writes through PgGate) before it runs.",
        };
        var promoteTimeout = new Option<double>("--promote-timeout")
        {
            Description = "Seconds the promote command (or Patroni's switchover) may take.",
            DefaultValueFactory = _ => 90,
        };
        var nodes = new Option<string[]>("--nodes")
        {
            Description = "Admin addresses (host:port) of the cluster's PgGate nodes. Default: every member's host at admin.listen's port.",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("switchover", "Planned switchover with no failed transactions: pause every node, switch, wait for the new leader, resume.");
        command.Arguments.Add(cluster);
        source.AddTo(command);
        command.Options.Add(to);
        command.Options.Add(scheduledAt);
        command.Options.Add(drain);
        command.Options.Add(leaderTimeout);
        command.Options.Add(promote);
        command.Options.Add(promoteTimeout);
        command.Options.Add(nodes);
        command.SetAction(async (result, cancellationToken) =>
        {
            var config = source.Load(result);
            var name = result.GetValue(cluster)!;
            var c = config.FindCluster(name)
                ?? throw new ConfigException(new SourceLocation(config.SourceFile, 0, 0), "",
                    $"no cluster named '{name}' (known: {string.Join(", ", config.Clusters.Select(x => x.Name))})");
            DateTimeOffset? at = null;
            if (result.GetValue(scheduledAt) is { } text)
            {
                if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
                    return GateCommandLine.Fail($"--scheduled-at '{text}' is not a time: give ISO 8601, e.g. 2026-11-26T05:00:00+00:00", 2);
                at = parsed;
            }
            var request = new SwitchoverRequest
            {
                Cluster = name,
                To = result.GetValue(to),
                ScheduledAt = at,
                DrainTimeout = Seconds(result.GetValue(drain)),
                LeaderTimeout = Seconds(result.GetValue(leaderTimeout)),
                PromoteCommand = result.GetValue(promote),
                PromoteTimeout = Seconds(result.GetValue(promoteTimeout)),
            };
            using var http = HttpSwitchoverNode.CreateClient();
            var addresses = SwitchoverNodes.AdminAddresses(config, c, result.GetValue(nodes));
            var authorization = Admin.AdminAuthentication.HeaderFor(config.Admin);
            var targets = addresses.Select(a => (ISwitchoverNode)new HttpSwitchoverNode(http, a, authorization)).ToList();
            var report = await new SwitchoverCoordinator(c, targets).RunAsync(request, step => Console.Out.WriteLine(step.ToString()), cancellationToken);
            if (!report.Ok)
                return GateCommandLine.Fail($"switchover of {name} failed: {report.Error}", 1);
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"done       ok     {report.TotalMs,7:0} ms  {name}: {report.OldLeader} -> {report.NewLeader ?? "(scheduled)"}"));
            return 0;
        });
        return command;
    }

    private static TimeSpan Seconds(double s) => TimeSpan.FromSeconds(s > 0 ? s : 0.001);
}
