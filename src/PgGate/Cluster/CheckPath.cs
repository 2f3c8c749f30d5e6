using System.Globalization;

namespace PgGate.Cluster;

/// <summary>
/// A Patroni health-check URL (<c>/replica?lag=1MB&amp;tag_zone=a</c>) split into what Patroni uses:
/// the path (routing is by substring, see <see cref="PatroniCheckRules"/>) and the query parameters.
/// </summary>
public sealed record CheckPath
{
    /// <summary>The text as configured; also the URL sent with <c>OPTIONS</c> to Patroni.</summary>
    public required string Raw { get; init; }

    /// <summary>Path without the query; <c>/</c> is rewritten to <c>/primary</c> as Patroni does.</summary>
    public required string Path { get; init; }

    /// <summary>
    /// Patroni answers this path only on the leader (<c>/primary</c>, <c>/read-write</c>, <c>/master</c>, <c>/leader</c>,
    /// <c>/standby-leader</c>): at most one member may pass it at a time.
    /// </summary>
    public bool IsLeaderPath => Path.Contains("leader", StringComparison.Ordinal) || Path.Contains("primary", StringComparison.Ordinal)
        || Path.Contains("master", StringComparison.Ordinal) || Path.Contains("read-write", StringComparison.Ordinal);

    /// <summary>Maximum replay lag in bytes from <c>?lag=</c>; null means unlimited.</summary>
    public long? MaxLagBytes { get; init; }

    /// <summary><c>?replication_state=</c> (e.g. <c>streaming</c>), when given.</summary>
    public string? ReplicationState { get; init; }

    /// <summary><c>?tag_key=value</c> filters.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Tags { get; init; } = [];

    public override string ToString() => Raw;

    // Everything else is parsed from the text, so the text is the identity (the tag list has no value equality).
    public bool Equals(CheckPath? other) => other is not null && Raw == other.Raw;

    public override int GetHashCode() => Raw.GetHashCode(StringComparison.Ordinal);

    public static CheckPath Parse(string raw)
    {
        var text = string.IsNullOrEmpty(raw) ? "/" : raw;
        var q = text.IndexOf('?', StringComparison.Ordinal);
        var path = q < 0 ? text : text[..q];
        if (path.Length == 0 || path == "/")
            path = "/primary";

        long? lag = null;
        string? state = null;
        List<KeyValuePair<string, string>>? tags = null;
        if (q >= 0)
        {
            foreach (var pair in text[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                var key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
                var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
                // Patroni's parse_qs keeps the first value of a repeated key.
                if (key == "lag")
                    lag ??= ParseLag(value);
                else if (key == "replication_state")
                    state ??= value;
                else if (key.StartsWith("tag_", StringComparison.Ordinal))
                    (tags ??= []).Add(new(key[4..], value));
            }
        }
        return new CheckPath { Raw = text, Path = path, MaxLagBytes = lag, ReplicationState = state, Tags = tags ?? [] };
    }

    /// <summary>
    /// Patroni's lag syntax: bytes, or a number with kB, MB, GB or TB (1024-based, case-sensitive).
    /// A value Patroni cannot parse leaves the lag unlimited, as Patroni does.
    /// </summary>
    public static long? ParseLag(string value)
    {
        var v = value.Trim();
        long unit = 1;
        foreach (var (suffix, factor) in LagUnits)
        {
            if (v.EndsWith(suffix, StringComparison.Ordinal))
            {
                unit = factor;
                v = v[..^suffix.Length].Trim();
                break;
            }
        }
        return long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n * unit : null;
    }

    private static readonly (string Suffix, long Factor)[] LagUnits =
    [
        ("kB", 1024L), ("MB", 1024L * 1024), ("GB", 1024L * 1024 * 1024), ("TB", 1024L * 1024 * 1024 * 1024),
    ];
}
