using System.Diagnostics;
using PgGate.Config;

namespace PgGate.Failover;

/// <summary>Runs a user's promote command (<c>/bin/sh -c</c>) with the candidate and the old primary in environment variables.</summary>
internal static class PromoteCommand
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string command, ClusterConfig cluster, MemberConfig candidate, MemberConfig? old,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        start.Environment["PGGATE_CLUSTER"] = cluster.Name;
        start.Environment["PGGATE_CANDIDATE"] = candidate.Name;
        start.Environment["PGGATE_CANDIDATE_HOST"] = candidate.Host;
        start.Environment["PGGATE_CANDIDATE_PORT"] = candidate.PgPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (old is not null)
        {
            start.Environment["PGGATE_OLD_PRIMARY"] = old.Name;
            start.Environment["PGGATE_OLD_PRIMARY_HOST"] = old.Host;
            start.Environment["PGGATE_OLD_PRIMARY_PORT"] = old.PgPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        using var process = Process.Start(start) ?? throw new SwitchoverException($"cannot start /bin/sh for the promote command '{command}'");
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (cancellationToken.IsCancellationRequested)
                throw;
            throw new SwitchoverException($"the promote command '{command}' did not finish within {timeout.TotalSeconds:0} s and was killed " +
                "(raise --promote-timeout if it needs longer)");
        }
        var output = ((await stdout.ConfigureAwait(false)) + (await stderr.ConfigureAwait(false))).Trim();
        return (process.ExitCode, output);
    }
}
