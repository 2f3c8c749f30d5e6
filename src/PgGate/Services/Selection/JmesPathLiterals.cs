using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PgGate.Services.Selection;

/// <summary>
/// Makes Pigsty's selectors parse the way Python's <c>jmespath</c> (used by Ansible's <c>json_query</c>) parses them.
/// Pigsty writes <c>[? pg_role == `primary` ]</c>: the backtick literal is not valid JSON. Python's lexer then reads the
/// text as a JSON string (<c>loads('"%s"' % lexeme.lstrip())</c>, the deprecated JEP-12 form); JmesPath.Net rejects it
/// with a syntax error. Rewriting each such literal into the JSON string Python would have produced keeps both the
/// meaning and JmesPath.Net's strictness for everything else.
/// </summary>
internal static class JmesPathLiterals
{
    /// <summary>The expression with every non-JSON backtick literal turned into a JSON string literal.</summary>
    /// <exception cref="FormatException">A literal that Python's lexer rejects too (e.g. one holding a double quote).</exception>
    public static string Rewrite(string expression)
    {
        if (!expression.Contains('`', StringComparison.Ordinal))
            return expression;

        var sb = new StringBuilder(expression.Length + 16);
        var i = 0;
        while (i < expression.Length)
        {
            var c = expression[i];
            if (c is '\'' or '"')
            {
                // Raw strings and quoted identifiers may contain backticks; copy them untouched.
                var end = SkipDelimited(expression, i, c);
                if (end < 0)
                {
                    sb.Append(expression, i, expression.Length - i);
                    break;
                }
                sb.Append(expression, i, end - i);
                i = end;
            }
            else if (c == '`')
            {
                var end = SkipDelimited(expression, i, '`');
                if (end < 0)
                {
                    // Unterminated: let the parser report it.
                    sb.Append(expression, i, expression.Length - i);
                    break;
                }
                sb.Append(RewriteLiteral(expression.Substring(i + 1, end - i - 2), i));
                i = end;
            }
            else
            {
                sb.Append(c);
                i++;
            }
        }
        return sb.ToString();
    }

    /// <summary>Index just past the closing delimiter, honouring backslash escapes (Python's <c>_consume_until</c>); -1 if unterminated.</summary>
    private static int SkipDelimited(string s, int start, char delimiter)
    {
        var i = start + 1;
        while (i < s.Length)
        {
            if (s[i] == '\\')
            {
                i += 2;
                continue;
            }
            if (s[i] == delimiter)
                return i + 1;
            i++;
        }
        return -1;
    }

    private static string RewriteLiteral(string raw, int position)
    {
        var lexeme = raw.Replace("\\`", "`", StringComparison.Ordinal);
        if (IsJson(lexeme))
        {
            // Valid JSON keeps its meaning; a backtick can only sit inside a JSON string, where \u0060 means the same.
            return "`" + lexeme.Replace("`", "\\u0060", StringComparison.Ordinal) + "`";
        }

        var trimmed = lexeme.Trim();
        if (trimmed is "NaN" or "Infinity" or "-Infinity")
        {
            throw new FormatException("the literal `" + raw + "` at position " + position.ToString(CultureInfo.InvariantCulture) +
                " is a non-finite number, which PgGate does not support; compare with a finite number");
        }

        string value;
        try
        {
            using var doc = JsonDocument.Parse("\"" + lexeme.TrimStart() + "\"");
            value = doc.RootElement.GetString()!;
        }
        catch (JsonException)
        {
            throw new FormatException("the literal `" + raw + "` at position " + position.ToString(CultureInfo.InvariantCulture) +
                " is neither JSON nor a plain word; write a JSON value such as `\"primary\"` or a raw string such as 'primary'");
        }
        return "`" + JsonString(value) + "`";
    }

    private static bool IsJson(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return false;
        try
        {
            using var doc = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string JsonString(string value)
    {
        var sb = new StringBuilder(value.Length + 2);
        sb.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\\':
                    sb.Append("\\\\");
                    break;
                case '`':
                    sb.Append("\\u0060");
                    break;
                default:
                    if (c < 0x20)
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
        return sb.ToString();
    }
}
