using System.Globalization;
using System.Text;

namespace PgGate.Pooling.Auth;

/// <summary>
/// PgBouncer's <c>auth_file</c> (userlist.txt): one <c>"user" "secret"</c> per line, a doubled quote inside quotes
/// standing for one quote; anything after the second field is ignored, and lines that do not start with a quote
/// (blank lines, comments) are skipped, as PgBouncer does. The secret is a plain password, an md5 hash or a SCRAM
/// verifier. When a user appears twice, the last line wins.
/// </summary>
public sealed class UserList
{
    private readonly Dictionary<string, UserSecret> _users;

    private UserList(Dictionary<string, UserSecret> users, IReadOnlyList<string> warnings)
    {
        _users = users;
        Warnings = warnings;
    }

    public static UserList Empty { get; } = new(new Dictionary<string, UserSecret>(StringComparer.Ordinal), []);

    public int Count => _users.Count;

    /// <summary>Lines that were skipped or secrets that look broken, each with "file:line: what".</summary>
    public IReadOnlyList<string> Warnings { get; }

    public IEnumerable<string> UserNames => _users.Keys;

    public bool TryGet(string user, out UserSecret secret)
    {
        if (_users.TryGetValue(user, out var found))
        {
            secret = found;
            return true;
        }

        secret = UserSecret.Empty;
        return false;
    }

    /// <summary>Reads <paramref name="path"/>; a missing file is an empty list (PgBouncer logs and goes on), an
    /// unreadable one throws <see cref="IOException"/> naming it.</summary>
    public static UserList Load(string? path)
    {
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            return Empty;
        }

        return Parse(File.ReadAllText(path), path);
    }

    public static UserList Parse(string text, string source = "userlist.txt")
    {
        var users = new Dictionary<string, UserSecret>(StringComparer.Ordinal);
        var warnings = new List<string>();
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.TrimEnd('\r').TrimStart(' ', '\t');
            if (line.Length == 0 || line[0] != '"')
            {
                continue;
            }

            var position = 0;
            if (!TryReadQuoted(line, ref position, out var user))
            {
                warnings.Add(Where(source, lineNumber) + "the user name's closing quote is missing; line skipped");
                continue;
            }

            while (position < line.Length && line[position] is ' ' or '\t')
            {
                position++;
            }

            if (position >= line.Length || line[position] != '"' || !TryReadQuoted(line, ref position, out var secretText))
            {
                warnings.Add(Where(source, lineNumber) + $"user \"{user}\" has no quoted secret (expected \"user\" \"secret\"); line skipped");
                continue;
            }

            var secret = UserSecret.Parse(secretText, out var warning);
            if (warning is not null)
            {
                warnings.Add(Where(source, lineNumber) + $"user \"{user}\": {warning} It is used as a plain password.");
            }

            users[user] = secret;
        }

        return new UserList(users, warnings);
    }

    private static string Where(string source, int line) => string.Create(CultureInfo.InvariantCulture, $"{source}:{line}: ");

    private static bool TryReadQuoted(string line, ref int position, out string value)
    {
        // position is at the opening quote.
        var builder = new StringBuilder();
        var i = position + 1;
        while (i < line.Length)
        {
            if (line[i] == '"')
            {
                if (i + 1 < line.Length && line[i + 1] == '"')
                {
                    builder.Append('"');
                    i += 2;
                    continue;
                }

                position = i + 1;
                value = builder.ToString();
                return true;
            }

            builder.Append(line[i]);
            i++;
        }

        value = string.Empty;
        return false;
    }
}
