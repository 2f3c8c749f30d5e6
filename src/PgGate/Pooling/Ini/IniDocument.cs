namespace PgGate.Pooling.Ini;

/// <summary>
/// Reads PgBouncer's ini syntax into entries: <c>[section]</c> headers, <c>key = value</c> lines, comment lines starting
/// with <c>;</c> or <c>#</c>, and <c>%include file</c>, which reads the named file in place (its lines belong to the
/// current section unless it opens its own). A relative include path is taken from the including file's directory.
/// </summary>
public static class IniDocument
{
    private const int MaxIncludeDepth = 10;

    /// <summary>Reads <paramref name="path"/> and everything it includes.</summary>
    /// <exception cref="PoolerConfigurationException">A file cannot be read, or a line is not ini syntax; the message
    /// names the file and line.</exception>
    public static IReadOnlyList<IniEntry> Load(string path)
    {
        var entries = new List<IniEntry>();
        var section = string.Empty;
        Read(Path.GetFullPath(path), entries, ref section, depth: 0, includedFrom: null);
        return entries;
    }

    /// <summary>Parses ini text (includes are resolved against <paramref name="directory"/>).</summary>
    public static IReadOnlyList<IniEntry> Parse(string text, string source, string? directory = null)
    {
        var entries = new List<IniEntry>();
        var section = string.Empty;
        ParseText(text, source, directory ?? Directory.GetCurrentDirectory(), entries, ref section, depth: 0);
        return entries;
    }

    private static void Read(string path, List<IniEntry> entries, ref string section, int depth, string? includedFrom)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var prefix = includedFrom is null ? string.Empty : includedFrom + ": %include ";
            throw new PoolerConfigurationException($"{prefix}cannot read {path}: {e.Message}", e);
        }

        ParseText(text, path, Path.GetDirectoryName(path) ?? ".", entries, ref section, depth);
    }

    private static void ParseText(string text, string source, string directory, List<IniEntry> entries, ref string section, int depth)
    {
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.TrimEnd('\r').Trim();
            if (line.Length == 0 || line[0] is ';' or '#')
            {
                continue;
            }

            var where = $"{source}:{lineNumber}";
            if (line[0] == '%')
            {
                if (!line.StartsWith("%include", StringComparison.OrdinalIgnoreCase) || line.Length == 8 || !char.IsWhiteSpace(line[8]))
                {
                    throw new PoolerConfigurationException($"{where}: unknown directive \"{line}\"; the only one is \"%include <file>\"");
                }

                if (depth >= MaxIncludeDepth)
                {
                    throw new PoolerConfigurationException($"{where}: %include nested more than {MaxIncludeDepth} deep (does a file include itself?)");
                }

                var target = Unquote(line.Substring(9).Trim());
                if (target.Length == 0)
                {
                    throw new PoolerConfigurationException($"{where}: %include needs a file name");
                }

                Read(Path.GetFullPath(target, directory), entries, ref section, depth + 1, where);
                continue;
            }

            if (line[0] == '[')
            {
                var close = line.IndexOf(']', StringComparison.Ordinal);
                if (close < 0)
                {
                    throw new PoolerConfigurationException($"{where}: section header \"{line}\" has no closing ']'");
                }

                section = line.Substring(1, close - 1).Trim().ToLowerInvariant();
                var rest = line.Substring(close + 1).Trim();
                if (rest.Length > 0 && rest[0] is not (';' or '#'))
                {
                    throw new PoolerConfigurationException($"{where}: unexpected text after section header: \"{rest}\"");
                }

                continue;
            }

            var equals = FindEquals(line);
            if (equals <= 0)
            {
                throw new PoolerConfigurationException($"{where}: expected \"key = value\", \"[section]\" or \"%include <file>\", got \"{line}\"");
            }

            var key = line.Substring(0, equals).Trim();
            if (key.Length > 1 && key[0] == '"' && key[^1] == '"')
            {
                key = key.Substring(1, key.Length - 2).Replace("\"\"", "\"", StringComparison.Ordinal);
            }

            entries.Add(new IniEntry(section, key, line.Substring(equals + 1).Trim(), source, lineNumber));
        }
    }

    /// <summary>The '=' that ends the key; a double-quoted key (a database name) may contain one.</summary>
    private static int FindEquals(string line)
    {
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '"')
            {
                quoted = !quoted;
            }
            else if (line[i] == '=' && !quoted)
            {
                return i;
            }
        }

        return -1;
    }

    private static string Unquote(string value) =>
        value.Length > 1 && ((value[0] == '"' && value[^1] == '"') || (value[0] == '\'' && value[^1] == '\''))
            ? value.Substring(1, value.Length - 2)
            : value;
}
