namespace PgGate;

internal static class Program
{
    public static int Main(string[] args) => Cli.GateCommandLine.Run(args);
}
