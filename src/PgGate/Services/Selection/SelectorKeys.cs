namespace PgGate.Services.Selection;

/// <summary>
/// Which top-level keys of a member document an expression can observe, so only those are converted to JSON for each
/// evaluation (the conversion dominates the cost). An expression that can see a member object as a whole — through
/// <c>@</c> (other than <c>@.key</c>), a <c>*</c> wildcard or a <c>$</c> variable — gets complete documents.
/// </summary>
internal static class SelectorKeys
{
    /// <summary>The identifiers the expression names, or null when it needs whole documents.</summary>
    public static HashSet<string>? Referenced(string expression)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        while (i < expression.Length)
        {
            var c = expression[i];
            switch (c)
            {
                case '`' or '\'':
                    i = SkipQuoted(expression, i, c);
                    break;
                case '"':
                {
                    var end = SkipQuoted(expression, i, '"');
                    try
                    {
                        using var doc = System.Text.Json.JsonDocument.Parse(expression.AsSpan(i, end - i).ToString());
                        keys.Add(doc.RootElement.GetString() ?? "");
                    }
                    catch (System.Text.Json.JsonException)
                    {
                        return null;
                    }
                    i = end;
                    break;
                }
                case '*' or '$':
                    return null;
                case '@':
                {
                    var j = i + 1;
                    while (j < expression.Length && char.IsWhiteSpace(expression[j]))
                        j++;
                    if (j >= expression.Length || expression[j] != '.')
                        return null;
                    i = j;
                    break;
                }
                default:
                    if (char.IsAsciiLetter(c) || c == '_')
                    {
                        var start = i;
                        while (i < expression.Length && (char.IsAsciiLetterOrDigit(expression[i]) || expression[i] == '_'))
                            i++;
                        keys.Add(expression[start..i]);
                    }
                    else
                        i++;
                    break;
            }
        }
        return keys;
    }

    private static int SkipQuoted(string s, int start, char delimiter)
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
        return s.Length;
    }
}
