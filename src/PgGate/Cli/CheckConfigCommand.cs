using System.CommandLine;
using PgGate.Config;

namespace PgGate.Cli;

/// <summary><c>pggate check-config</c>: validates the configuration and prints the effective services and servers per node.</summary>
internal static class CheckConfigCommand
{
    public static Command Create()
    {
        var source = new ConfigOptions();
        var node = new Option<string?>("--node", "-n") { Description = "Show only what this node (member name or address) serves." };
        var haproxy = new Option<bool>("--haproxy")
        {
            Description = "Print the HAProxy configuration Pigsty would render for the same services, for comparison.",
        };
        var command = new Command("check-config", "Validate the configuration; print the effective services and servers per node.");
        source.AddTo(command);
        command.Options.Add(node);
        command.Options.Add(haproxy);
        command.SetAction(result =>
        {
            var config = source.Load(result);
            var only = result.GetValue(node);
            if (only is not null)
                _ = Hosting.GateHost.ClustersOf(config, new Hosting.NodeSpec(only, null));
            if (result.GetValue(haproxy))
            {
                foreach (var cluster in config.Clusters)
                {
                    var host = only is null ? cluster.Members[0].Host : cluster.FindMember(only)?.Host;
                    if (host is null)
                        continue;
                    foreach (var (file, text) in HaproxyConfigRenderer.RenderServiceFiles(cluster, host))
                        Console.Out.Write($"# {file}\n{text}\n");
                }
                return 0;
            }
            Console.Out.Write(ConfigReport.Render(config, only));
            return 0;
        });
        return command;
    }
}
