using System.Buffers;
using System.Text;

namespace PgGate.Sandbox;

/// <summary>Quoting for the languages the sandbox writes: SQL, postgresql.conf, libpq conninfo and .pgpass.</summary>
internal static class Quoting
{
    private static readonly SearchValues<char> ConninfoSpecial = SearchValues.Create(" \t\r\n'\\=");

    public static string SqlIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>A SQL string literal; standard_conforming_strings is on, so only quotes need doubling.</summary>
    public static string SqlLiteral(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>A postgresql.conf string value, where backslash is an escape character too.</summary>
    public static string ConfString(string value) =>
        "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>A libpq conninfo value, quoted only when it has to be (keeps commands in messages readable).</summary>
    public static string ConninfoValue(string value) =>
        value.Length > 0 && value.AsSpan().IndexOfAny(ConninfoSpecial) < 0
            ? value
            : "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    public static string Conninfo(params (string Key, string Value)[] pairs)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in pairs)
        {
            if (text.Length > 0)
            {
                text.Append(' ');
            }

            text.Append(key).Append('=').Append(ConninfoValue(value));
        }

        return text.ToString();
    }

    public static string PassFileField(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(":", "\\:", StringComparison.Ordinal);
}
