using System.Text;

namespace PgGate.Sandbox;

/// <summary>What one external command did: how it ended and what it printed.</summary>
internal sealed record CommandResult(string CommandLine, int ExitCode, bool TimedOut, string StandardOutput, string StandardError, TimeSpan Elapsed)
{
    public bool Succeeded => !TimedOut && ExitCode == 0;

    /// <summary>Throws a <see cref="SandboxException"/> quoting the command, its stderr and the server log's tail.</summary>
    public CommandResult ThrowIfFailed(string purpose, string? serverLog = null, string? advice = null)
    {
        if (!Succeeded)
        {
            throw new SandboxException(Describe(purpose, serverLog, advice));
        }

        return this;
    }

    public string Describe(string purpose, string? serverLog = null, string? advice = null)
    {
        var message = new StringBuilder();
        message.Append("Could not ").Append(purpose).Append(": `").Append(CommandLine).Append('`');
        message.Append(TimedOut
            ? $" did not finish within {Elapsed.TotalSeconds:0.#} s and was killed."
            : $" exited with code {ExitCode} after {Elapsed.TotalSeconds:0.0#} s.");
        AppendQuoted(message, "stderr", StandardError);
        if (StandardError.Trim().Length == 0)
        {
            AppendQuoted(message, "stdout", StandardOutput);
        }

        if (serverLog is not null)
        {
            AppendQuoted(message, $"last lines of {serverLog}", LogTail.Read(serverLog));
        }

        if (advice is not null)
        {
            message.AppendLine().Append(advice);
        }

        return message.ToString();
    }

    private static void AppendQuoted(StringBuilder message, string title, string text)
    {
        var trimmed = text.TrimEnd();
        if (trimmed.Length == 0)
        {
            return;
        }

        message.AppendLine().Append(title).Append(':');
        foreach (var line in trimmed.Split('\n'))
        {
            message.AppendLine().Append("  ").Append(line.TrimEnd('\r'));
        }
    }
}
