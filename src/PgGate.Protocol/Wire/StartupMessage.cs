namespace PgGate.Protocol;

/// <summary>A parsed StartupMessage: protocol version and the client's parameters in the order it sent them.</summary>
public sealed class StartupMessage
{
    private static readonly KeyValuePair<string, string>[] NoOptions = [];

    public StartupMessage(
        int protocolVersion,
        IReadOnlyList<KeyValuePair<string, string>> parameters,
        IReadOnlyList<KeyValuePair<string, string>>? protocolOptions = null)
    {
        ProtocolVersion = protocolVersion;
        Parameters = parameters;
        ProtocolOptions = protocolOptions ?? NoOptions;
        User = GetParameter("user") ?? string.Empty;
    }

    /// <summary>The raw version word: major in the high 16 bits, minor in the low 16 bits.</summary>
    public int ProtocolVersion { get; }

    public int MajorVersion => ProtocolConstants.MajorVersion(ProtocolVersion);

    public int MinorVersion => ProtocolConstants.MinorVersion(ProtocolVersion);

    /// <summary>Every parameter except <c>_pq_.*</c> protocol options, in wire order (duplicates kept).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Parameters { get; }

    /// <summary>The <c>_pq_.*</c> protocol options, in wire order. PgGate implements none of them.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ProtocolOptions { get; }

    public string User { get; }

    /// <summary>The database to connect to; like PostgreSQL, it defaults to the user name when absent or empty.</summary>
    public string Database
    {
        get
        {
            var database = GetParameter("database");
            return string.IsNullOrEmpty(database) ? User : database;
        }
    }

    public string? Options => GetParameter("options");

    public string? ApplicationName => GetParameter("application_name");

    /// <summary>The "replication" parameter as sent ("true", "database", ...), or null for a normal connection.</summary>
    public string? Replication => GetParameter("replication");

    /// <summary>
    /// True when the client must be answered with NegotiateProtocolVersion before anything else: it asked for a newer
    /// minor version than <paramref name="latestSupportedMinor"/> or sent protocol options we do not implement.
    /// </summary>
    public bool NeedsProtocolNegotiation(int latestSupportedMinor = ProtocolConstants.LatestSupportedMinorVersion)
        => MinorVersion > latestSupportedMinor || ProtocolOptions.Count > 0;

    /// <summary>The names of the <c>_pq_.*</c> options, as NegotiateProtocolVersion lists them.</summary>
    public string[] GetProtocolOptionNames()
    {
        var names = new string[ProtocolOptions.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = ProtocolOptions[i].Key;
        }

        return names;
    }

    /// <summary>The value of a parameter; when a client repeats one, the last occurrence wins, as in PostgreSQL.</summary>
    public string? GetParameter(string name)
    {
        for (var i = Parameters.Count - 1; i >= 0; i--)
        {
            if (string.Equals(Parameters[i].Key, name, StringComparison.Ordinal))
            {
                return Parameters[i].Value;
            }
        }

        return null;
    }
}
