namespace PgGate.Cluster;

/// <summary>
/// What the last probe learned about a member. Sources fill what they can: the <c>sql</c> probe reads
/// the server, the <c>patroni</c> probe reads Patroni's <c>GET /patroni</c>.
/// </summary>
public sealed record MemberFacts
{
    public static MemberFacts Unknown { get; } = new();

    /// <summary>The probe reached the member (PostgreSQL for <c>sql</c>, the REST API for <c>patroni</c>).</summary>
    public bool Reachable { get; init; }

    /// <summary>PostgreSQL is running and accepting connections (Patroni's <c>state == running</c>).</summary>
    public bool Running { get; init; }

    public MemberRole Role { get; init; }

    /// <summary>The member holds the cluster's leader key (Patroni/etcd) or, for <c>sql</c>, is the primary.</summary>
    public bool IsLeader { get; init; }

    /// <summary>Bytes of WAL the member's replay is behind the cluster's newest known position; 0 on the primary.</summary>
    public long? LagBytes { get; init; }

    /// <summary>Current WAL position (the primary's write LSN, a replica's replay LSN).</summary>
    public ulong? Lsn { get; init; }

    public long? Timeline { get; init; }

    /// <summary>On a replica: the newest WAL position the primary reported to it (<c>pg_stat_wal_receiver.latest_end_lsn</c>).</summary>
    public ulong? ReceivedLsn { get; init; }

    /// <summary>On the primary: its standbys as <c>pg_stat_replication</c> lists them.</summary>
    public IReadOnlyList<ReplicationPeer> Replication { get; init; } = [];

    /// <summary>Replication state as the primary sees it, e.g. <c>streaming</c>.</summary>
    public string? ReplicationState { get; init; }

    /// <summary>Named in the primary's <c>pg_stat_replication</c> with <c>sync_state = 'sync'</c>.</summary>
    public bool IsSyncStandby { get; init; }

    /// <summary>Named in the primary's <c>pg_stat_replication</c> with <c>sync_state = 'quorum'</c>.</summary>
    public bool IsQuorumStandby { get; init; }

    /// <summary>Patroni tags (<c>nofailover</c>, <c>noloadbalance</c>, ...); false booleans are left out, as Patroni does.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>Why the last probe failed, for logs and the status page.</summary>
    public string? Error { get; init; }

    public DateTimeOffset ObservedAt { get; init; }
}

/// <summary>One row of the primary's <c>pg_stat_replication</c>.</summary>
public sealed record ReplicationPeer(string ApplicationName, string? ClientAddress, string State, string SyncState);
