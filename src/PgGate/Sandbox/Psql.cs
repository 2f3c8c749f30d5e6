using System.Globalization;
using Microsoft.Extensions.Logging;

namespace PgGate.Sandbox;

/// <summary>Runs SQL through the installation's psql as the <c>postgres</c> superuser over a server's unix socket.</summary>
internal static class Psql
{
    public const string Superuser = OsUser.PostgresUserName;

    /// <summary>Each statement runs on its own (so CREATE DATABASE works) and the first error stops the script.
    /// Returns the rows unaligned (<c>|</c>-separated), one per line, without the final newline.</summary>
    public static async Task<string> RunAsync(
        PostgresInstallation installation,
        OsUser osUser,
        ILogger logger,
        string socketDirectory,
        int port,
        string database,
        string sql,
        string purpose,
        string serverLog,
        TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var result = await CommandRunner.RunAsync(
            osUser,
            installation.Psql,
            ["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-h", socketDirectory, "-p", port.ToString(CultureInfo.InvariantCulture),
                "-U", Superuser, "-d", database, "-f", "-"],
            logger,
            cancellationToken,
            standardInput: sql,
            timeout: timeout);
        if (!result.Succeeded)
        {
            var unreachable = result.StandardError.Contains("connection to server", StringComparison.Ordinal);
            throw new SandboxException(result.Describe(purpose, unreachable ? serverLog : null));
        }

        return result.StandardOutput.TrimEnd('\n');
    }
}
