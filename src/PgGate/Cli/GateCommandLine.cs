using System.CommandLine;
using PgGate.Config;

namespace PgGate.Cli;

/// <summary>
/// The <c>pggate</c> command line, one verb per job. Every failure ends in one readable line on stderr
/// and a non-zero exit code: 2 for a bad command line or configuration, 1 for a runtime failure.
/// </summary>
internal static class GateCommandLine
{
    public static int Run(string[] args)
    {
        var root = new RootCommand("PgGate: stable services (primary, replica, default, offline, ...) for PostgreSQL HA clusters, " +
                                   "routed by live health, in one process.");
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(CheckConfigCommand.Create());
        root.Subcommands.Add(UrlsCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(PoolerCommand.Create());
        root.Subcommands.Add(SwitchoverCommand.Create());
        try
        {
            var parsed = root.Parse(args);
            if (parsed.Errors.Count > 0)
                return Fail($"{parsed.Errors[0].Message} (see pggate --help)", 2);
            // Errors end in one readable line below, not System.CommandLine's stack-trace printer.
            var invocation = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
            if (parsed.CommandResult.Command.Name == "pooler")
            {
                // The pooler handles SIGINT/SIGTERM itself: SIGINT waits for running transactions, longer than the 2 s grace.
                invocation.ProcessTerminationTimeout = null;
            }
            return parsed.Invoke(invocation);
        }
        catch (ConfigException ex)
        {
            return Fail(ex.Message, 2);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException
                                       or Sandbox.SandboxException or System.Net.Sockets.SocketException or TimeoutException)
        {
            return Fail(ex.Message, 1);
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
    }

    public static int Fail(string message, int code)
    {
        Console.Error.WriteLine("pggate: " + message);
        return code;
    }
}
