namespace PgGate.Cluster.PatroniApi;

/// <summary>Patroni's <c>GET /cluster</c>: every member as the DCS knows it, sorted by name.</summary>
public sealed record PatroniClusterStatus
{
    public required IReadOnlyList<PatroniClusterMember> Members { get; init; }

    /// <summary>Automatic failover is paused (<c>patronictl pause</c>).</summary>
    public bool Paused { get; init; }

    /// <summary>A switchover waiting for its time, when one is scheduled.</summary>
    public PatroniScheduledSwitchover? ScheduledSwitchover { get; init; }

    /// <summary>The member whose role is <c>leader</c> (or <c>standby_leader</c>); null when the cluster has none.</summary>
    public PatroniClusterMember? Leader
    {
        get
        {
            foreach (var member in Members)
            {
                if (member.IsLeader)
                    return member;
            }
            return null;
        }
    }

    public PatroniClusterMember? Find(string name)
    {
        foreach (var member in Members)
        {
            if (member.Name == name)
                return member;
        }
        return null;
    }
}

/// <summary>One member in <c>GET /cluster</c>.</summary>
public sealed record PatroniClusterMember
{
    public required string Name { get; init; }

    /// <summary><c>leader</c>, <c>standby_leader</c>, <c>sync_standby</c> or <c>replica</c> (Patroni 3.0); newer versions
    /// also say <c>quorum_standby</c>.</summary>
    public required string Role { get; init; }

    /// <summary>PostgreSQL's state as Patroni reports it: <c>running</c>, <c>streaming</c> (3.0.4+), <c>stopped</c>,
    /// <c>starting</c>, <c>crashed</c>...</summary>
    public required string State { get; init; }

    public string? ApiUrl { get; init; }

    public string? Host { get; init; }

    public int? Port { get; init; }

    public long? Timeline { get; init; }

    /// <summary>Bytes behind the leader; null for the leader itself and when Patroni says <c>unknown</c>.</summary>
    public long? LagBytes { get; init; }

    /// <summary>Patroni tags as given (booleans as <c>true</c>/<c>false</c>).</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    public bool IsLeader => Role is "leader" or "standby_leader" or "master" or "primary";

    public bool IsSyncStandby => Role == "sync_standby";
}

public sealed record PatroniScheduledSwitchover(DateTimeOffset At, string? From, string? To);
