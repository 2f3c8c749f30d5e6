using System.Globalization;

namespace PgGate.Pooling.Ini;

/// <summary>Parsing and printing of PgBouncer setting values; parse failures throw <see cref="FormatException"/>
/// whose message is the expected form.</summary>
internal static class SettingValues
{
    public const string WholeNumber = "a whole number >= 0";
    public const string Port = "a TCP port number (1-65535)";
    public const string Seconds = "a number of seconds >= 0, optionally with a unit (e.g. 600, 1.5, 500ms, 10min)";
    public const string Flag = "0 or 1 (also yes/no, on/off, true/false)";
    public const string Text = "text";
    public const string NameList = "a comma-separated list of names";
    public const string PoolModes = "session, transaction or statement";

    public static int ParseInt(string value, int min = 0, int max = int.MaxValue, string form = WholeNumber)
    {
        if (!int.TryParse(value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var result) || result < min || result > max)
        {
            throw new FormatException(form);
        }

        return result;
    }

    public static TimeSpan ParseSeconds(string value)
    {
        var text = value.Trim().ToLowerInvariant();
        var scale = 1.0;
        foreach (var (suffix, factor) in Units)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal) && text.Length > suffix.Length)
            {
                text = text.Substring(0, text.Length - suffix.Length).TrimEnd();
                scale = factor;
                break;
            }
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || number < 0 || double.IsNaN(number)
            || number * scale > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            throw new FormatException(Seconds);
        }

        return TimeSpan.FromSeconds(number * scale);
    }

    // Longest suffixes first, so "ms" is not read as "s".
    private static readonly (string Suffix, double Factor)[] Units =
        [("min", 60), ("ms", 0.001), ("us", 0.000001), ("h", 3600), ("d", 86400), ("s", 1)];

    public static bool ParseBool(string value) => value.Trim().ToLowerInvariant() switch
    {
        "1" or "yes" or "on" or "true" => true,
        "0" or "no" or "off" or "false" => false,
        _ => throw new FormatException(Flag),
    };

    public static IReadOnlyList<string> ParseList(string value)
    {
        var items = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        for (var i = 0; i < items.Length; i++)
        {
            if (items[i].Length > 1 && items[i][0] == '"' && items[i][^1] == '"')
            {
                items[i] = items[i].Substring(1, items[i].Length - 2);
            }
        }

        return items;
    }

    public static PoolMode ParsePoolMode(string value) => value.Trim().ToLowerInvariant() switch
    {
        "session" => PoolMode.Session,
        "transaction" => PoolMode.Transaction,
        "statement" => PoolMode.Statement,
        _ => throw new FormatException(PoolModes),
    };

    public static string? NullIfEmpty(string value) => value.Trim().Length == 0 ? null : value.Trim();

    public static string Format(int value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Format(bool value) => value ? "1" : "0";

    public static string Format(TimeSpan value) =>
        value.TotalSeconds.ToString("0.######", CultureInfo.InvariantCulture);

    public static string Format(IReadOnlyList<string> values) => string.Join(",", values);

    public static string Format(PoolMode mode) => mode switch
    {
        PoolMode.Session => "session",
        PoolMode.Transaction => "transaction",
        _ => "statement",
    };
}
