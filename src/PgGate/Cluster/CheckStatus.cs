namespace PgGate.Cluster;

/// <summary>One check of one member in a published view.</summary>
public sealed record CheckStatus
{
    public required CheckSpec Spec { get; init; }
    public required bool IsUp { get; init; }
    public required CheckPhase Phase { get; init; }

    /// <summary>HAProxy's health counter, 0 to rise + fall - 1.</summary>
    public required int Health { get; init; }

    /// <summary>When the up/down state last changed (null before the first result).</summary>
    public DateTimeOffset? LastChange { get; init; }

    /// <summary>The most recent results, newest last: <c>+</c> passed, <c>-</c> failed.</summary>
    public string Recent { get; init; } = "";
}
