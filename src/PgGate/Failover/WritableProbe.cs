using System.Diagnostics;
using PgGate.Cluster;
using PgGate.Config;

namespace PgGate.Failover;

/// <summary>
/// Asks the new leader's PostgreSQL itself (the <c>sql</c> health credentials) whether it accepts writes yet. Patroni
/// reports a member primary as soon as it has asked PostgreSQL to promote, a few milliseconds before PostgreSQL leaves
/// recovery; resuming paused transactions in that gap would send them to a read-only server (SQLSTATE 25006).
/// </summary>
internal static class WritableProbe
{
    /// <summary>Returns null once the member is primary, or why that could not be confirmed within <paramref name="timeout"/>.</summary>
    public static async Task<string?> WaitAsync(ClusterConfig cluster, MemberConfig member, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await using var probe = new SqlProbe(cluster, member, TimeSpan.FromSeconds(2), TimeProvider.System);
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        var refusals = 0;
        string? last = null;
        while (true)
        {
            var result = await probe.ProbeAsync([], cancellationToken).ConfigureAwait(false);
            if (result.Facts.Running && result.Facts.Role == MemberRole.Primary)
                return null;
            last = result.Facts.Error ?? "still in recovery";
            // Wrong monitor credentials will not heal: say so instead of waiting out the timeout.
            if (result.Facts.Error is { } e && (e.StartsWith("28P01", StringComparison.Ordinal) || e.StartsWith("28000", StringComparison.Ordinal)) && ++refusals >= 2)
                return $"the monitor user {cluster.Health.Sql.User} cannot log in to {member.Name} ({e}); set health.sql";
            if (Stopwatch.GetTimestamp() > deadline)
                return $"{member.Name} did not report itself primary within {timeout.TotalSeconds:0.#} s ({last})";
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }
}
