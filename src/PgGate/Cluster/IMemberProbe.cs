using PgGate.Config;

namespace PgGate.Cluster;

/// <summary>What one probe of a member returned.</summary>
/// <param name="Facts">What the member reported about itself.</param>
/// <param name="CheckResults">
/// Pass/fail per check when the source answers checks itself (Patroni's REST API), in the order of the
/// checks asked for; null when checks are to be evaluated from facts (the <c>sql</c> source).
/// </param>
public readonly record struct ProbeResult(MemberFacts Facts, bool[]? CheckResults);

/// <summary>Probes one member. One instance per member, so it may keep a connection open between probes.</summary>
public interface IMemberProbe : IAsyncDisposable
{
    ValueTask<ProbeResult> ProbeAsync(IReadOnlyList<CheckPath> checks, CancellationToken cancellationToken);
}

/// <summary>Creates the probe for a member according to the cluster's health source.</summary>
public interface IMemberProbeFactory
{
    IMemberProbe Create(ClusterConfig cluster, MemberConfig member);

    /// <summary>
    /// A direct read of the member's live role, used beside <see cref="Create"/>'s probe while a new holder of the DCS
    /// leader key is confirmed (Patroni's REST API reports the promotion later than PostgreSQL does). Null when there
    /// is none (no monitor credentials, or a source that already reads PostgreSQL).
    /// </summary>
    IMemberProbe? CreateRoleProbe(ClusterConfig cluster, MemberConfig member) => null;
}
