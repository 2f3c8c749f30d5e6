using System.Globalization;
using System.Text;

namespace PgGate.Config;

/// <summary>
/// HAProxy <c>default-server</c> argument strings (a service's <c>options</c>) to and from <see cref="ServerOptions"/>.
/// As in HAProxy, a string replaces the defaults entirely: a keyword left out takes HAProxy's own default
/// (inter 2s, fastinter and downinter = inter, rise 2, fall 3, no slowstart, maxconn and maxqueue unlimited,
/// weight 1, sessions kept when a server goes down), not Pigsty's RTO values.
/// </summary>
public static class ServerOptionsSyntax
{
    /// <summary>Every keyword PgGate understands, in the order <see cref="Format"/> writes them.</summary>
    public static IReadOnlyList<string> SupportedKeywords { get; } =
    [
        "inter", "fastinter", "downinter", "rise", "fall", "on-marked-down", "slowstart", "maxconn", "maxqueue", "weight", "check",
    ];

    /// <summary>HAProxy's values when a <c>default-server</c> line does not set a keyword.</summary>
    public static ServerOptions HaproxyDefaults { get; } = new()
    {
        Inter = TimeSpan.FromSeconds(2),
        FastInter = TimeSpan.FromSeconds(2),
        DownInter = TimeSpan.FromSeconds(2),
        Rise = 2,
        Fall = 3,
        ShutdownSessionsOnMarkedDown = false,
        SlowStart = TimeSpan.Zero,
        MaxConn = 0,
        MaxQueue = 0,
        Weight = 1,
    };

    /// <summary>
    /// Parses <paramref name="text"/>; <paramref name="location"/> and <paramref name="key"/> only label errors.
    /// <see cref="ServerOptions.CheckTimeout"/> is taken from <paramref name="checkTimeout"/> (HAProxy's <c>timeout check</c>
    /// is not a server keyword).
    /// </summary>
    public static ServerOptions Parse(string text, SourceLocation location, string key, TimeSpan? checkTimeout = null)
    {
        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        TimeSpan inter = HaproxyDefaults.Inter;
        TimeSpan? fastInter = null, downInter = null;
        var rise = HaproxyDefaults.Rise;
        var fall = HaproxyDefaults.Fall;
        var shutdown = false;
        var slowStart = TimeSpan.Zero;
        var maxConn = 0;
        var maxQueue = 0;
        var weight = HaproxyDefaults.Weight;

        for (var i = 0; i < words.Length; i++)
        {
            var word = words[i];
            switch (word)
            {
                case "check":
                    // Every PgGate server is health-checked; HAProxy's "check" switch has nothing to turn on.
                    break;
                case "inter":
                    inter = Time(words, ref i, location, key, positive: true);
                    break;
                case "fastinter":
                    fastInter = Time(words, ref i, location, key, positive: true);
                    break;
                case "downinter":
                    downInter = Time(words, ref i, location, key, positive: true);
                    break;
                case "slowstart":
                    slowStart = Time(words, ref i, location, key, positive: false);
                    break;
                case "rise":
                    rise = Count(words, ref i, location, key, 1, 1_000_000);
                    break;
                case "fall":
                    fall = Count(words, ref i, location, key, 1, 1_000_000);
                    break;
                case "maxconn":
                    maxConn = Count(words, ref i, location, key, 0, int.MaxValue);
                    break;
                case "maxqueue":
                    maxQueue = Count(words, ref i, location, key, 0, int.MaxValue);
                    break;
                case "weight":
                    weight = Count(words, ref i, location, key, 0, 256);
                    break;
                case "on-marked-down":
                {
                    var action = Argument(words, ref i, location, key, "shutdown-sessions");
                    if (action != "shutdown-sessions")
                        throw new ConfigException(location, key,
                            "on-marked-down " + action + " is not supported; the only action is on-marked-down shutdown-sessions");
                    shutdown = true;
                    break;
                }
                case "on-marked-up":
                    throw new ConfigException(location, key,
                        "on-marked-up is not supported by PgGate (backup sessions are never cut when a normal server returns); " +
                        "remove it. Supported keywords: " + string.Join(", ", SupportedKeywords));
                default:
                {
                    var hint = Yaml.KeyHints.Closest(word, SupportedKeywords) is { } guess ? " (did you mean '" + guess + "'?)" : "";
                    throw new ConfigException(location, key,
                        "unknown server option '" + word + "'" + hint + "; supported keywords: " + string.Join(", ", SupportedKeywords));
                }
            }
        }

        return new ServerOptions
        {
            Inter = inter,
            FastInter = fastInter ?? inter,
            DownInter = downInter ?? inter,
            Rise = rise,
            Fall = fall,
            ShutdownSessionsOnMarkedDown = shutdown,
            SlowStart = slowStart,
            MaxConn = maxConn,
            MaxQueue = maxQueue,
            Weight = weight,
            CheckTimeout = checkTimeout ?? ServerOptions.Norm.CheckTimeout,
        };
    }

    /// <summary>
    /// The <c>default-server</c> string for <paramref name="options"/>, in Pigsty's keyword order; for Pigsty's norm plan it is
    /// <c>inter 2s fastinter 1s downinter 2s rise 3 fall 3 on-marked-down shutdown-sessions slowstart 30s maxconn 3000 maxqueue 128 weight 100</c>.
    /// </summary>
    public static string Format(ServerOptions options)
    {
        var sb = new StringBuilder(128);
        sb.Append("inter ").Append(HaproxyTime.Format(options.Inter));
        sb.Append(" fastinter ").Append(HaproxyTime.Format(options.FastInter));
        sb.Append(" downinter ").Append(HaproxyTime.Format(options.DownInter));
        sb.Append(" rise ").Append(options.Rise.ToString(CultureInfo.InvariantCulture));
        sb.Append(" fall ").Append(options.Fall.ToString(CultureInfo.InvariantCulture));
        if (options.ShutdownSessionsOnMarkedDown)
            sb.Append(" on-marked-down shutdown-sessions");
        if (options.SlowStart > TimeSpan.Zero)
            sb.Append(" slowstart ").Append(HaproxyTime.Format(options.SlowStart));
        sb.Append(" maxconn ").Append(options.MaxConn.ToString(CultureInfo.InvariantCulture));
        sb.Append(" maxqueue ").Append(options.MaxQueue.ToString(CultureInfo.InvariantCulture));
        sb.Append(" weight ").Append(options.Weight.ToString(CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    private static string Argument(string[] words, ref int i, SourceLocation location, string key, string example)
    {
        if (i + 1 >= words.Length)
            throw new ConfigException(location, key, "'" + words[i] + "' needs a value, e.g. '" + words[i] + " " + example + "'");
        return words[++i];
    }

    private static TimeSpan Time(string[] words, ref int i, SourceLocation location, string key, bool positive)
    {
        var keyword = words[i];
        var text = Argument(words, ref i, location, key, "2s");
        if (!HaproxyTime.TryParse(text, out var value, out var error))
            throw new ConfigException(location, key, keyword + " " + text + ": " + error + " (HAProxy time format: 500ms, 2s, 1m)");
        if (positive && value <= TimeSpan.Zero)
            throw new ConfigException(location, key, keyword + " must be greater than 0, found " + text);
        return value;
    }

    private static int Count(string[] words, ref int i, SourceLocation location, string key, int min, int max)
    {
        var keyword = words[i];
        var text = Argument(words, ref i, location, key, min.ToString(CultureInfo.InvariantCulture));
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            var range = max == int.MaxValue ? "an integer >= " + min.ToString(CultureInfo.InvariantCulture)
                : "an integer " + min.ToString(CultureInfo.InvariantCulture) + "-" + max.ToString(CultureInfo.InvariantCulture);
            throw new ConfigException(location, key, keyword + " expects " + range + ", found \"" + text + "\"");
        }
        return value;
    }
}
