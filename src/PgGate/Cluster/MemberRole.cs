namespace PgGate.Cluster;

/// <summary>The role a member reports about itself right now (not its configured <c>pg_role</c>).</summary>
public enum MemberRole
{
    Unknown,
    Primary,
    Replica,

    /// <summary>The leader of a standby cluster: in recovery, but holds the cluster's leader key.</summary>
    StandbyLeader,
}
