namespace PgGate.Config;

/// <summary>
/// A configuration error a user must fix. The message always names the file, line and key, says what
/// was found and what form is expected, e.g.
/// <c>pggate.yml:12:7: clusters.pg-test.services[1].port: expected a port number 1-65535, found "54x4"</c>.
/// </summary>
public sealed class ConfigException : Exception
{
    public ConfigException(SourceLocation location, string key, string problem)
        : base(Format(location, key, problem))
    {
        Location = location;
        Key = key;
        Problem = problem;
    }

    public SourceLocation Location { get; }

    /// <summary>Dotted path of the offending key, e.g. <c>clusters.pg-test.members[0].host</c>.</summary>
    public string Key { get; }

    public string Problem { get; }

    private static string Format(SourceLocation location, string key, string problem)
    {
        var where = location.IsKnown || location.File.Length > 0 ? location + ": " : "";
        var what = key.Length > 0 ? key + ": " : "";
        return where + what + problem;
    }
}
