using System.Text;

namespace PgGate.Pooling.Ini;

/// <summary>The <c>key=value key='quoted value'</c> strings of <c>[databases]</c> and <c>[users]</c> lines, as PgBouncer
/// (and libpq) write them: a single-quoted value may hold spaces, and <c>\'</c> or <c>''</c> inside it is one quote.</summary>
internal static class ConnectString
{
    /// <exception cref="FormatException">The string is not a list of key=value pairs; the message says what is wrong.</exception>
    public static List<KeyValuePair<string, string>> Parse(string text)
    {
        var result = new List<KeyValuePair<string, string>>();
        var i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (i >= text.Length)
            {
                return result;
            }

            var keyStart = i;
            while (i < text.Length && text[i] != '=' && !char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            var key = text.Substring(keyStart, i - keyStart);
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (i >= text.Length || text[i] != '=' || key.Length == 0)
            {
                throw new FormatException($"expected key=value pairs, \"{key}\" has no '='");
            }

            i++;
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            var value = new StringBuilder();
            if (i < text.Length && text[i] == '\'')
            {
                i++;
                var closed = false;
                while (i < text.Length)
                {
                    var c = text[i++];
                    if (c == '\\' && i < text.Length)
                    {
                        value.Append(text[i++]);
                    }
                    else if (c == '\'')
                    {
                        if (i < text.Length && text[i] == '\'')
                        {
                            value.Append('\'');
                            i++;
                        }
                        else
                        {
                            closed = true;
                            break;
                        }
                    }
                    else
                    {
                        value.Append(c);
                    }
                }

                if (!closed)
                {
                    throw new FormatException($"the quoted value of {key} has no closing quote");
                }
            }
            else
            {
                while (i < text.Length && !char.IsWhiteSpace(text[i]))
                {
                    value.Append(text[i++]);
                }
            }

            result.Add(new(key.ToLowerInvariant(), value.ToString()));
        }
    }
}
