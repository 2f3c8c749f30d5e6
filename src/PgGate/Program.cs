namespace PgGate;

internal static class Program
{
    public static int Main(string[] args)
    {
        // Socket completions run on .NET's epoll thread instead of hopping to the thread pool: an accepted client
        // is routed and handed to the relay loop (Services/Relay) in one wake-up instead of two. Must be set before
        // the first socket exists. Code after a socket await must therefore never block (CPU-heavy work hops to the
        // pool first).
        if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        return Cli.GateCommandLine.Run(args);
    }
}
