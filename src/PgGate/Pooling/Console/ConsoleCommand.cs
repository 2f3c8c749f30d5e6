using System.Text;

namespace PgGate.Pooling.Console;

/// <summary>
/// A parsed console command: <c>VERB [argument]</c> (SHOW POOLS, PAUSE mydb) or <c>SET key = value</c>. Keywords are
/// case-insensitive, one trailing semicolon is allowed, database names may be double-quoted and SET values single-quoted.
/// </summary>
internal readonly record struct ConsoleCommand(string Verb, string? Argument, string? Value)
{
    /// <summary>Null when <paramref name="query"/> is not one console command (empty, several statements, stray words).</summary>
    public static ConsoleCommand? Parse(string query)
    {
        var text = query.Trim();
        while (text.EndsWith(';'))
        {
            text = text.Substring(0, text.Length - 1).TrimEnd();
        }

        var position = 0;
        var verb = ReadWord(text, ref position);
        if (verb is null)
        {
            return null;
        }

        verb = verb.ToUpperInvariant();
        if (verb == "SET")
        {
            var key = ReadWord(text, ref position);
            SkipSpaces(text, ref position);
            if (key is null)
            {
                return null;
            }

            if (position < text.Length && text[position] == '=')
            {
                position++;
            }
            else if (ReadWord(text, ref position) is not { } to || !to.Equals("TO", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            SkipSpaces(text, ref position);
            var value = ReadValue(text, ref position);
            SkipSpaces(text, ref position);
            return value is null || position < text.Length ? null : new ConsoleCommand(verb, key.ToLowerInvariant(), value);
        }

        var argument = ReadWord(text, ref position);
        SkipSpaces(text, ref position);
        if (position < text.Length)
        {
            return null;
        }

        if (verb == "SHOW" && argument is not null)
        {
            argument = argument.ToUpperInvariant();
        }

        return new ConsoleCommand(verb, argument, null);
    }

    private static void SkipSpaces(string text, ref int position)
    {
        while (position < text.Length && char.IsWhiteSpace(text[position]))
        {
            position++;
        }
    }

    /// <summary>A bare word (letters, digits, _ . - *) or a double-quoted identifier; null at the end.</summary>
    private static string? ReadWord(string text, ref int position)
    {
        SkipSpaces(text, ref position);
        if (position >= text.Length)
        {
            return null;
        }

        if (text[position] == '"')
        {
            return ReadQuoted(text, ref position, '"');
        }

        var start = position;
        while (position < text.Length && (char.IsLetterOrDigit(text[position]) || text[position] is '_' or '.' or '-' or '*' or '$'))
        {
            position++;
        }

        return position == start ? null : text.Substring(start, position - start);
    }

    private static string? ReadValue(string text, ref int position)
    {
        if (position >= text.Length)
        {
            return null;
        }

        if (text[position] == '\'')
        {
            return ReadQuoted(text, ref position, '\'');
        }

        var start = position;
        while (position < text.Length && !char.IsWhiteSpace(text[position]))
        {
            position++;
        }

        return text.Substring(start, position - start);
    }

    private static string? ReadQuoted(string text, ref int position, char quote)
    {
        var value = new StringBuilder();
        position++;
        while (position < text.Length)
        {
            var c = text[position++];
            if (c == quote)
            {
                if (position < text.Length && text[position] == quote)
                {
                    value.Append(quote);
                    position++;
                    continue;
                }

                return value.ToString();
            }

            value.Append(c);
        }

        return null;
    }
}
