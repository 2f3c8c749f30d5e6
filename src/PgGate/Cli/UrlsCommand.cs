using System.CommandLine;
using PgGate.Config;

namespace PgGate.Cli;

/// <summary><c>pggate urls &lt;cluster&gt;</c>: every way to reach every service of a cluster, as connection URLs.</summary>
internal static class UrlsCommand
{
    public static Command Create()
    {
        var source = new ConfigOptions();
        var cluster = new Argument<string>("cluster") { Description = "Cluster name, e.g. pg-test." };
        var user = new Option<string>("--user", "-U") { Description = "User name in the URLs.", DefaultValueFactory = _ => "test" };
        var database = new Option<string>("--database", "-d") { Description = "Database in the URLs.", DefaultValueFactory = _ => "test" };
        var command = new Command("urls", "Print every way to reach every service of a cluster: names, VIP, addresses, multi-host URLs.");
        command.Arguments.Add(cluster);
        source.AddTo(command);
        command.Options.Add(user);
        command.Options.Add(database);
        command.SetAction(result =>
        {
            var config = source.Load(result);
            var name = result.GetValue(cluster)!;
            var c = config.FindCluster(name)
                ?? throw new ConfigException(new SourceLocation(config.SourceFile, 0, 0), "",
                    $"no cluster named '{name}' (known: {string.Join(", ", config.Clusters.Select(x => x.Name))})");
            Console.Out.Write(UrlReport.Render(c, result.GetValue(user)!, result.GetValue(database)!));
            return 0;
        });
        return command;
    }
}
