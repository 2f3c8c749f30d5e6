using System.Collections.Immutable;
using PgGate.Config;

namespace PgGate.Cluster;

/// <summary>A member in a published view: configuration, last facts, and every check's state.</summary>
public sealed record MemberView
{
    public required MemberConfig Config { get; init; }
    public required MemberFacts Facts { get; init; }
    public required ImmutableArray<CheckStatus> Checks { get; init; }

    public string Name => Config.Name;

    public CheckStatus? FindCheck(CheckSpec spec)
    {
        foreach (var c in Checks)
        {
            if (c.Spec == spec)
                return c;
        }
        return null;
    }

    /// <summary>The live role when known, otherwise the configured one, in Pigsty's words.</summary>
    public string EffectiveRole => LiveRoles.Effective(Config.Role, Facts);
}
