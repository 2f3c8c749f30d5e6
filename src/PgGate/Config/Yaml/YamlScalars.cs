using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PgGate.Config.Yaml;

/// <summary>Types a scalar the way the file's reader (PgGate or Ansible) would: null, bool, long, double or string.</summary>
internal static partial class YamlScalars
{
    private const string TagPrefix = "tag:yaml.org,2002:";

    public static bool IsPlain(YamlScalarNode node) => node.Style is ScalarStyle.Plain or ScalarStyle.Any;

    /// <summary>The explicit standard tag (<c>str</c>, <c>int</c>, ...) or null when untagged; other tags come back whole.</summary>
    public static string? ExplicitTag(YamlScalarNode node)
    {
        if (node.Tag.IsEmpty || node.Tag.IsNonSpecific)
            return null;
        var tag = node.Tag.Value;
        return tag.StartsWith(TagPrefix, StringComparison.Ordinal) ? tag[TagPrefix.Length..] : tag;
    }

    public static object? Resolve(YamlScalarNode node, ScalarSchema schema)
    {
        var value = node.Value ?? "";
        switch (ExplicitTag(node))
        {
            case null:
                break;
            case "str":
                return value;
            case "null":
                return null;
            case "bool":
                return ParseBool(value, schema) ?? (object)value;
            case "int":
                return ParseInt(value, schema) ?? (object)value;
            case "float":
                return ParseFloat(value, schema) ?? ParseInt(value, schema) ?? (object)value;
            default:
                // Ansible's !unsafe and friends: the text itself.
                return value;
        }

        if (!IsPlain(node))
            return value;
        if (IsNullText(value, schema))
            return null;
        if (ParseBool(value, schema) is { } b)
            return b;
        if (ParseInt(value, schema) is { } l)
            return l;
        if (ParseFloat(value, schema) is { } d)
            return d;
        return value;
    }

    public static bool IsNull(YamlScalarNode node, ScalarSchema schema)
    {
        var tag = ExplicitTag(node);
        if (tag == "null")
            return true;
        return tag is null && IsPlain(node) && IsNullText(node.Value ?? "", schema);
    }

    private static bool IsNullText(string value, ScalarSchema schema) =>
        value is "" or "~" or "null" or "Null" or "NULL";

    public static bool? ParseBool(string value, ScalarSchema schema)
    {
        switch (value)
        {
            case "true" or "True" or "TRUE":
                return true;
            case "false" or "False" or "FALSE":
                return false;
        }
        if (schema == ScalarSchema.Yaml11)
        {
            switch (value)
            {
                // PyYAML leaves y/Y/n/N out of its bool resolver, so they stay strings here too.
                case "yes" or "Yes" or "YES" or "on" or "On" or "ON":
                    return true;
                case "no" or "No" or "NO" or "off" or "Off" or "OFF":
                    return false;
            }
        }
        return null;
    }

    public static long? ParseInt(string value, ScalarSchema schema)
    {
        if (schema == ScalarSchema.Core)
        {
            if (CoreDecimal().IsMatch(value))
                return long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var d) ? d : null;
            if (value.StartsWith("0x", StringComparison.Ordinal) && value.Length > 2)
                return TryBase(value[2..], 16, negative: false);
            if (value.StartsWith("0o", StringComparison.Ordinal) && value.Length > 2)
                return TryBase(value[2..], 8, negative: false);
            return null;
        }

        if (!Yaml11Int().IsMatch(value))
            return null;
        var negative = value[0] == '-';
        var body = (value[0] is '-' or '+' ? value[1..] : value).Replace("_", "", StringComparison.Ordinal);
        if (body.Contains(':', StringComparison.Ordinal))
        {
            long total = 0;
            foreach (var part in body.Split(':'))
                total = checked(total * 60 + long.Parse(part, CultureInfo.InvariantCulture));
            return negative ? -total : total;
        }
        if (body.StartsWith("0b", StringComparison.Ordinal))
            return TryBase(body[2..], 2, negative);
        if (body.StartsWith("0x", StringComparison.Ordinal))
            return TryBase(body[2..], 16, negative);
        if (body.Length > 1 && body[0] == '0')
            return TryBase(body[1..], 8, negative);
        return long.TryParse(body, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? (negative ? -v : v) : null;
    }

    public static double? ParseFloat(string value, ScalarSchema schema)
    {
        switch (value)
        {
            case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF":
                return double.PositiveInfinity;
            case "-.inf" or "-.Inf" or "-.INF":
                return double.NegativeInfinity;
            case ".nan" or ".NaN" or ".NAN":
                return double.NaN;
        }
        var regex = schema == ScalarSchema.Core ? CoreFloat() : Yaml11Float();
        if (!regex.IsMatch(value) || value.Contains(':', StringComparison.Ordinal))
            return null;
        return double.TryParse(value.Replace("_", "", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
            ? d
            : null;
    }

    private static long? TryBase(string digits, int radix, bool negative)
    {
        if (digits.Length == 0)
            return null;
        try
        {
            var v = Convert.ToInt64(digits, radix);
            return negative ? -v : v;
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            return null;
        }
    }

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex CoreDecimal();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex CoreFloat();

    // PyYAML's int resolver (YAML 1.1).
    [GeneratedRegex("^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$")]
    private static partial Regex Yaml11Int();

    // PyYAML's float resolver (YAML 1.1); note that "1e3" (no dot) stays a string there.
    [GeneratedRegex(@"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?)$")]
    private static partial Regex Yaml11Float();
}
