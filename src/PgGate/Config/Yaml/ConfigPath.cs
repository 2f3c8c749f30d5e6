namespace PgGate.Config.Yaml;

/// <summary>Dotted key paths for error messages: <c>clusters.pg-test.services[1].port</c>, <c>hosts["10.10.10.11"].pg_seq</c>.</summary>
internal static class ConfigPath
{
    public static string Child(string parent, string key)
    {
        var simple = key.Length > 0;
        foreach (var c in key)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            {
                simple = false;
                break;
            }
        }
        if (!simple)
            return parent + "[\"" + key.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"]";
        return parent.Length == 0 ? key : parent + "." + key;
    }

    public static string Index(string parent, int index) => parent + "[" + index.ToString(System.Globalization.CultureInfo.InvariantCulture) + "]";
}
