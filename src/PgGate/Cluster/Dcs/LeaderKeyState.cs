namespace PgGate.Cluster.Dcs;

/// <summary>What happened to produce a <see cref="LeaderKeyState"/>.</summary>
public enum LeaderKeyChange
{
    /// <summary>Nothing read yet (the watch has not connected).</summary>
    None,

    /// <summary>Read with a range request: at start and after every reconnect (the value may or may not differ).</summary>
    Read,

    /// <summary>The watch saw the key written: a new leader took it, or the same one re-created it.</summary>
    Put,

    /// <summary>The watch saw the key deleted: Patroni released it, or its lease expired (the leader's node died).</summary>
    Delete,

    /// <summary>The connection to etcd failed; <see cref="LeaderKeyState.Leader"/> is the last value seen and may be stale.</summary>
    Disconnected,
}

/// <summary>
/// The Patroni leader key as an <see cref="EtcdLeaderWatch"/> last saw it. A new instance is reported on every change;
/// instances are immutable.
/// </summary>
public sealed record LeaderKeyState
{
    /// <summary>The watched key, e.g. <c>/pg/pg-test/leader</c>.</summary>
    public required string Key { get; init; }

    /// <summary>The key's value, the Patroni member name that holds leadership; null when there is no key (no leader).
    /// When <see cref="IsCurrent"/> is false, the last value seen before etcd became unreachable.</summary>
    public string? Leader { get; init; }

    /// <summary>True when the value comes from a live connection to etcd (read or watched); false while reconnecting.</summary>
    public bool IsCurrent { get; init; }

    /// <summary>etcd's revision at which <see cref="Leader"/> became true: the put's or delete's revision for watch events,
    /// the store's revision for a read. Increases over time; 0 before the first read.</summary>
    public long Revision { get; init; }

    public LeaderKeyChange Change { get; init; }

    /// <summary>The etcd endpoint the value came from (or that failed).</summary>
    public string? Endpoint { get; init; }

    /// <summary>Why the watch is not current; null when it is.</summary>
    public string? Error { get; init; }

    public DateTimeOffset ObservedAt { get; init; }

    /// <summary><see cref="TimeProvider.GetTimestamp"/> when observed, for measuring latencies.</summary>
    public long ObservedTimestamp { get; init; }

    /// <summary>True when the key is known (current) and names <paramref name="member"/>.</summary>
    public bool IsHeldBy(string member) => IsCurrent && Leader == member;

    public override string ToString() =>
        (IsCurrent ? "" : "(stale) ") + (Leader is null ? "no leader" : "leader " + Leader) + $" at revision {Revision} ({Change})" +
        (Error is null ? "" : ": " + Error);
}
