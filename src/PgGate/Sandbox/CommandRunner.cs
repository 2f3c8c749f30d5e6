using System.Buffers;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;

namespace PgGate.Sandbox;

/// <summary>
/// Runs one PostgreSQL tool as the sandbox's OS user with an argument list (never a shell string), captures its
/// output, and kills it when it overruns its time.
/// </summary>
internal static class CommandRunner
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Characters that make an argument worth quoting when a command is shown in a message.</summary>
    private static readonly SearchValues<char> ShellSpecial = SearchValues.Create(" \t\"'\\$;&|<>()*?");

    public static async Task<CommandResult> RunAsync(
        OsUser user,
        string tool,
        IReadOnlyList<string> arguments,
        ILogger logger,
        CancellationToken cancellationToken,
        string? standardInput = null,
        TimeSpan? timeout = null)
    {
        var startInfo = user.CreateStartInfo(tool, arguments);
        startInfo.RedirectStandardInput = true;
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.StandardOutputEncoding = Encoding.UTF8;
        startInfo.StandardErrorEncoding = Encoding.UTF8;

        // The postgres user may not be allowed into the caller's directory (e.g. /root), and tools complain.
        startInfo.WorkingDirectory = "/";
        PrepareEnvironment(startInfo.Environment);

        var commandLine = Display(startInfo);
        var limit = timeout ?? DefaultTimeout;
        using var process = new Process { StartInfo = startInfo };
        var stopwatch = Stopwatch.StartNew();
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new SandboxException($"Could not run `{commandLine}`: {e.Message}.", e);
        }

        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            if (standardInput is not null)
            {
                await process.StandardInput.WriteAsync(standardInput.AsMemory(), cancellationToken);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The tool exited before reading its input; its exit code and stderr tell why.
        }

        var timedOut = false;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            deadline.CancelAfter(limit);
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                KillTree(process);
                cancellationToken.ThrowIfCancellationRequested();
                timedOut = true;
            }
        }

        // A daemon that kept our pipes open must not hang us; pg_ctl is always given -l so the postmaster does not.
        var stdout = await ReadRestAsync(output);
        var stderr = await ReadRestAsync(error);
        var exitCode = timedOut ? -1 : process.ExitCode;
        SandboxLog.CommandFinished(logger, commandLine, exitCode, stopwatch.ElapsedMilliseconds);
        return new CommandResult(commandLine, exitCode, timedOut, stdout, stderr, stopwatch.Elapsed);
    }

    private static async Task<string> ReadRestAsync(Task<string> reading)
    {
        try
        {
            return await reading.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            return "(output still open after the command ended)";
        }
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    private static void PrepareEnvironment(IDictionary<string, string?> environment)
    {
        // PGHOST, PGPORT, PGDATA, PGUSER, PGPASSWORD, PGSERVICE... from the caller must not redirect our commands.
        var inherited = new List<string>();
        foreach (var key in environment.Keys)
        {
            if (key.StartsWith("PG", StringComparison.Ordinal))
            {
                inherited.Add(key);
            }
        }

        foreach (var key in inherited)
        {
            environment.Remove(key);
        }

        environment["LC_ALL"] = "C";
        environment["LANG"] = "C";
        environment["PGCLIENTENCODING"] = "UTF8";
    }

    internal static string Display(ProcessStartInfo startInfo)
    {
        var text = new StringBuilder(startInfo.FileName);
        foreach (var argument in startInfo.ArgumentList)
        {
            text.Append(' ');
            var plain = argument.Length > 0 && argument.AsSpan().IndexOfAny(ShellSpecial) < 0;
            text.Append(plain ? argument : "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'");
        }

        return text.ToString();
    }
}
