namespace PgGate.Cli;

/// <summary>The <c>pggate</c> command line: one verb per job.</summary>
internal static class GateCommandLine
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("pggate: no commands yet");
        return args.Length == 0 ? 2 : 2;
    }
}
