using System.CommandLine;

namespace PgGate.Cli;

/// <summary><c>pggate demo</c>: a local three-member cluster with every service of every node.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var command = new Command("demo", "Start a local 3-member PostgreSQL cluster (127.0.0.11-13) and serve all its services; Ctrl-C stops and removes it.");
        command.SetAction(_ => GateCommandLine.Fail("demo is not wired yet", 1));
        return command;
    }
}
