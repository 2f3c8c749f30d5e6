using System.CommandLine;
using Microsoft.Extensions.Logging;
using PgGate.Config;
using PgGate.Hosting;
using PgGate.Sandbox;

namespace PgGate.Cli;

/// <summary>
/// <c>pggate demo</c>: starts a local three-member cluster (primary, replica, offline replica on
/// 127.0.0.11-13:5432) from the installed PostgreSQL, serves every service of all three nodes from the
/// embedded <c>demo.yml</c>, prints the connection URLs and a live status table until Ctrl-C, then
/// stops every process and removes the data.
/// </summary>
internal static class DemoCommand
{
    public static string EmbeddedConfig()
    {
        using var stream = typeof(DemoCommand).Assembly.GetManifestResourceStream("PgGate.demo.yml")
            ?? throw new InvalidOperationException("the embedded demo configuration is missing from this build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static Command Create()
    {
        var printConfig = new Option<bool>("--print-config") { Description = "Print the demo's configuration and exit." };
        var noStatus = new Option<bool>("--no-status") { Description = "Log events instead of redrawing the live status table." };
        var command = new Command("demo",
            "Start a local 3-member PostgreSQL cluster (127.0.0.11-13) and serve all its services from all three nodes; Ctrl-C stops and removes it.");
        command.Options.Add(printConfig);
        command.Options.Add(noStatus);
        command.SetAction(async (result, cancellationToken) =>
        {
            var yaml = EmbeddedConfig();
            if (result.GetValue(printConfig))
            {
                Console.Out.Write(yaml);
                return 0;
            }
            var config = ConfigLoader.LoadNativeFromString(yaml, "demo.yml (embedded)");
            var live = !result.GetValue(noStatus) && !Console.IsOutputRedirected;
            using var loggers = ConsoleLogging.Create(live ? LogLevel.Warning : LogLevel.Information);
            var log = loggers.CreateLogger("pggate.demo");
            var cluster = config.Clusters[0];

            Console.Error.WriteLine($"pggate demo: starting PostgreSQL {string.Join(", ", cluster.Members.Select(m => $"{m.Name} on {m.Host}:{m.PgPort}"))} ...");
            LocalCluster sandbox;
            try
            {
                sandbox = await LocalCluster.StartAsync(new LocalClusterOptions { Name = cluster.Name }, loggers.CreateLogger("pggate.sandbox"), cancellationToken);
            }
            catch (SandboxException ex)
            {
                return GateCommandLine.Fail(ex.Message, 1);
            }

            await using (sandbox)
            {
                config = WithUserList(config, sandbox);
                var nodes = cluster.Members.Select(m => new NodeSpec(m.Name, m.Host)).ToArray();
                await using var host = new GateHost(config, nodes, loggers);
                try
                {
                    await host.StartAsync(cancellationToken);
                }
                catch (InvalidOperationException ex)
                {
                    return GateCommandLine.Fail(ex.Message, 1);
                }
                await host.Monitors[0].WaitForAsync(v => v.Leader is not null, TimeSpan.FromSeconds(10), cancellationToken);

                var urls = DemoUrls(cluster);
                Console.Out.Write(urls);
                Console.Out.Flush();
                using var stop = new CancellationTokenSource();
                var shutdown = RunCommand.WaitForShutdownAsync(cancellationToken).ContinueWith(_ => stop.Cancel(), TaskScheduler.Default);
                if (live)
                    await LiveStatusTable.RunAsync(host, urls, stop.Token);
                else
                    await shutdown;
                log.LogWarning("stopping PgGate, then PostgreSQL; removing {Directory}", sandbox.BaseDirectory);
            }
            Console.Error.WriteLine("pggate demo: stopped; every process ended and the data is removed.");
            return 0;
        });
        return command;
    }

    /// <summary>The pooler authenticates clients against the sandbox's users, written as PgBouncer's userlist.txt.</summary>
    internal static GateConfig WithUserList(GateConfig config, LocalCluster sandbox)
    {
        var path = Path.Combine(sandbox.BaseDirectory, "userlist.txt");
        File.WriteAllText(path, string.Concat(sandbox.Options.Users.Select(u => $"\"{u.Name}\" \"{u.Password}\"\n")));
        var clusters = config.Clusters
            .Select(c => c.Pooler is { } p ? c with { Pooler = p with { Settings = p.Settings with { AuthFile = path } } } : c)
            .ToArray();
        return config with { Clusters = clusters };
    }

    internal static string DemoUrls(ClusterConfig cluster)
    {
        var sb = new System.Text.StringBuilder();
        sb.Append("\nPgGate demo: cluster ").Append(cluster.Name).Append(", every service on every node (password = user name, or DBUser.DBA / DBUser.Stats)\n\n");
        foreach (var s in cluster.Services)
        {
            var user = s.Name switch { "default" => "dbuser_dba:DBUser.DBA", "offline" => "dbuser_stats:DBUser.Stats", _ => "test:test" };
            sb.Append($"  {s.Name,-8} {s.Check,-11} {(s.Dest.Kind == DestinationKind.Pool ? "pooled" : "direct"),-7} ");
            sb.Append(string.Join("  ", cluster.Members.Select(m => $"postgres://{user}@{m.Host}:{s.Port}/test")));
            sb.Append('\n');
        }
        if (cluster.Pooler is { Listen: true })
        {
            sb.Append($"  {"pooler",-8} {"own member",-11} {"pooled",-7} ");
            sb.Append(string.Join("  ", cluster.Members.Select(m => $"postgres://test:test@{m.Host}:{m.PoolerPort}/test")));
            sb.Append('\n');
        }
        sb.Append("\n  members  direct              ").Append(string.Join("  ", cluster.Members.Select(m => $"postgres://test:test@{m.Host}:{m.PgPort}/test")));
        sb.Append("\n  status   ").Append(string.Join("  ", cluster.Members.Select(m => $"http://{m.Host}:9101/")));
        sb.Append("\n\n  try: psql postgres://test:test@127.0.0.12:5433/test -c 'select inet_server_addr(), pg_is_in_recovery()'\n");
        sb.Append("  Ctrl-C stops everything and removes the data.\n\n");
        return sb.ToString();
    }
}
