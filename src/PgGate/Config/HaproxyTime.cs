using System.Globalization;

namespace PgGate.Config;

/// <summary>
/// HAProxy's time format: an integer with an optional unit <c>us</c>, <c>ms</c>, <c>s</c>, <c>m</c>, <c>h</c>, <c>d</c>;
/// a bare number means milliseconds. A decimal value (<c>0.5s</c>, <c>1.5s</c>) is accepted too because Pigsty's own
/// <c>pg_rto_plan</c> writes them, although HAProxy itself rejects them ("unexpected character '.'").
/// </summary>
public static class HaproxyTime
{
    /// <summary>HAProxy refuses timers of 2^31 ms and more.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromMilliseconds(int.MaxValue);

    public static bool TryParse(string text, out TimeSpan value, out string? error)
    {
        value = default;
        error = null;
        if (text.Length == 0)
        {
            error = "empty duration";
            return false;
        }

        var i = 0;
        while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            i++;
        var number = text[..i];
        var unit = text[i..];
        if (number.Length == 0 || number[0] == '.' || number[^1] == '.' || number.Count(c => c == '.') > 1)
        {
            error = "a duration starts with a number, e.g. 500ms, 2s, 1m";
            return false;
        }

        long ticksPerUnit;
        switch (unit)
        {
            case "":
            case "ms":
                ticksPerUnit = TimeSpan.TicksPerMillisecond;
                break;
            case "us":
                ticksPerUnit = TimeSpan.TicksPerMicrosecond;
                break;
            case "s":
                ticksPerUnit = TimeSpan.TicksPerSecond;
                break;
            case "m":
                ticksPerUnit = TimeSpan.TicksPerMinute;
                break;
            case "h":
                ticksPerUnit = TimeSpan.TicksPerHour;
                break;
            case "d":
                ticksPerUnit = TimeSpan.TicksPerDay;
                break;
            default:
                error = "unknown time unit '" + unit + "'; use us, ms, s, m, h or d";
                return false;
        }

        if (!decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            error = "the number is too large";
            return false;
        }
        var ticks = amount * ticksPerUnit;
        if (ticks > Max.Ticks)
        {
            error = "the duration is too long; HAProxy's limit is 24.8 days (2147483647ms)";
            return false;
        }
        value = TimeSpan.FromTicks((long)decimal.Round(ticks, MidpointRounding.AwayFromZero));
        return true;
    }

    public static TimeSpan Parse(string text) =>
        TryParse(text, out var value, out var error) ? value : throw new FormatException(error + ": \"" + text + "\"");

    /// <summary>The shortest exact form HAProxy accepts: <c>2s</c>, <c>500ms</c>, <c>1m</c>, <c>1500us</c>; zero is <c>0</c>.</summary>
    public static string Format(TimeSpan value)
    {
        var ticks = value.Ticks;
        if (ticks == 0)
            return "0";
        if (ticks % TimeSpan.TicksPerDay == 0)
            return (ticks / TimeSpan.TicksPerDay).ToString(CultureInfo.InvariantCulture) + "d";
        if (ticks % TimeSpan.TicksPerHour == 0)
            return (ticks / TimeSpan.TicksPerHour).ToString(CultureInfo.InvariantCulture) + "h";
        if (ticks % TimeSpan.TicksPerMinute == 0)
            return (ticks / TimeSpan.TicksPerMinute).ToString(CultureInfo.InvariantCulture) + "m";
        if (ticks % TimeSpan.TicksPerSecond == 0)
            return (ticks / TimeSpan.TicksPerSecond).ToString(CultureInfo.InvariantCulture) + "s";
        if (ticks % TimeSpan.TicksPerMillisecond == 0)
            return (ticks / TimeSpan.TicksPerMillisecond).ToString(CultureInfo.InvariantCulture) + "ms";
        // HAProxy has no unit finer than microseconds; round up like HAProxy does.
        var micros = (ticks + TimeSpan.TicksPerMicrosecond - 1) / TimeSpan.TicksPerMicrosecond;
        return micros.ToString(CultureInfo.InvariantCulture) + "us";
    }
}
