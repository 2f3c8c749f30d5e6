using System.Diagnostics;

namespace PgGate.Sandbox;

/// <summary>Polls a condition until it holds or a bounded time passes: the sandbox never sleeps and hopes.</summary>
internal static class Waiting
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    public static async Task UntilAsync(
        Func<CancellationToken, Task<bool>> condition,
        TimeSpan timeout,
        Func<string?, string> describeTimeout,
        CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        string? lastError = null;
        while (true)
        {
            try
            {
                if (await condition(cancellationToken))
                {
                    return;
                }

                lastError = null;
            }
            catch (SandboxException e)
            {
                // E.g. the server is still starting; keep the reason for the timeout message.
                lastError = e.Message;
            }

            if (stopwatch.Elapsed > timeout)
            {
                throw new SandboxException(describeTimeout(lastError));
            }

            await Task.Delay(Poll, cancellationToken);
        }
    }
}
