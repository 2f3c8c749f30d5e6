using PgGate.Cluster;
using PgGate.Config;

namespace PgGate.Hosting;

/// <summary>Chooses each member's probe by the cluster's health source.</summary>
public sealed class ProbeFactory(TimeProvider time) : IMemberProbeFactory
{
    public IMemberProbe Create(ClusterConfig cluster, MemberConfig member)
    {
        var timeout = cluster.Health.CheckTimeout;
        return cluster.Health.Source switch
        {
            // With the DCS source the leader key decides who leads; Patroni's checks are the second opinion.
            HealthSource.Patroni or HealthSource.Dcs => new PatroniProbe(cluster, member, timeout, time),
            HealthSource.Sql => new SqlProbe(cluster, member, timeout, time),
            _ => throw new NotSupportedException($"health source {cluster.Health.Source} is unknown"),
        };
    }

    // The monitor user's password is what says "PgGate may log in to check": Pigsty inventories always have one.
    public IMemberProbe? CreateRoleProbe(ClusterConfig cluster, MemberConfig member) =>
        cluster.Health.Source == HealthSource.Dcs && cluster.Health.Sql.Password.IsSet
            ? new SqlProbe(cluster, member, cluster.Health.CheckTimeout, time)
            : null;
}
