namespace PgGate.Pooling.Ini;

/// <summary>One <c>key = value</c> line of a PgBouncer ini file, with the section it belongs to and where it was read.</summary>
public sealed record IniEntry(string Section, string Key, string Value, string File, int Line)
{
    /// <summary>"file:line", the prefix of every message about this entry.</summary>
    public string Where => $"{File}:{Line}";
}
