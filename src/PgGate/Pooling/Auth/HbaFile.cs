using System.Globalization;
using System.Net;
using System.Text;

namespace PgGate.Pooling.Auth;

/// <summary>
/// An HBA file in pg_hba.conf format, as PgBouncer's <c>auth_hba_file</c>: <c>local|host|hostssl|hostnossl database user
/// [address] method [options]</c>, first matching line wins, no match means refusal.
/// <para>Supported: comma lists and double-quoted names in the database and user fields; the keywords <c>all</c> and
/// <c>sameuser</c>; IPv4/IPv6 CIDRs, <c>address mask</c> pairs and <c>all</c>; the methods trust, reject, md5, password,
/// scram-sha-256 (and peer and cert, see <see cref="HbaMethod"/>). Not supported, and reported as an error so that a
/// rule is never silently weakened: <c>@file</c> inclusions, host names, <c>samehost</c>/<c>samenet</c> and other methods.
/// <c>+group</c>, <c>samerole</c> and <c>replication</c> are accepted but never match, since the pooler knows no role
/// membership and serves no replication connections. <c>local</c> lines never match (TCP only).</para>
/// </summary>
public sealed class HbaFile
{
    private HbaFile(IReadOnlyList<HbaRule> rules, string source)
    {
        Rules = rules;
        Source = source;
    }

    public IReadOnlyList<HbaRule> Rules { get; }

    public string Source { get; }

    /// <summary>Reads and parses <paramref name="path"/>; throws <see cref="FormatException"/> with "file:line: what" on errors.</summary>
    public static HbaFile Load(string path) => Parse(File.ReadAllText(path), path);

    public static HbaFile Parse(string text, string source = "pgb_hba.conf")
    {
        var rules = new List<HbaRule>();
        var errors = new List<string>();
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.TrimEnd('\r');
            List<List<HbaToken>> fields;
            try
            {
                fields = Tokenize(line);
            }
            catch (FormatException e)
            {
                errors.Add(Where(source, lineNumber) + e.Message);
                continue;
            }

            if (fields.Count == 0)
            {
                continue;
            }

            var rule = ParseRule(fields, lineNumber, line.Trim(), out var error);
            if (rule is null)
            {
                errors.Add(Where(source, lineNumber) + error);
                continue;
            }

            rules.Add(rule);
        }

        if (errors.Count > 0)
        {
            throw new FormatException(
                $"{source} has {errors.Count} invalid line(s); fix them (PgGate refuses a partly understood HBA file):" +
                Environment.NewLine + string.Join(Environment.NewLine, errors));
        }

        return new HbaFile(rules, source);
    }

    /// <summary>The first rule matching a TCP client, or null when none does (the client is refused).</summary>
    public HbaRule? Match(bool tls, string database, string user, IPAddress address)
    {
        foreach (var rule in Rules)
        {
            if (rule.Matches(tls, database, user, address))
            {
                return rule;
            }
        }

        return null;
    }

    private static string Where(string source, int line) => string.Create(CultureInfo.InvariantCulture, $"{source}:{line}: ");

    private static HbaRule? ParseRule(List<List<HbaToken>> fields, int lineNumber, string text, out string? error)
    {
        error = null;
        var typeField = fields[0];
        if (typeField.Count != 1 || typeField[0].IsGroup)
        {
            error = "the connection type must be one of local, host, hostssl, hostnossl";
            return null;
        }

        HbaConnectionType type;
        switch (typeField[0].Value)
        {
            case "local": type = HbaConnectionType.Local; break;
            case "host": type = HbaConnectionType.Host; break;
            case "hostssl": type = HbaConnectionType.HostSsl; break;
            case "hostnossl": type = HbaConnectionType.HostNoSsl; break;
            default:
                error = $"unknown connection type \"{typeField[0].Value}\" (expected local, host, hostssl or hostnossl; hostgssenc is not supported)";
                return null;
        }

        var minimum = type == HbaConnectionType.Local ? 4 : 5;
        if (fields.Count < minimum)
        {
            error = type == HbaConnectionType.Local
                ? "a local line needs: local database user method"
                : $"a {typeField[0].Value} line needs: {typeField[0].Value} database user address method";
            return null;
        }

        var databases = fields[1];
        var users = fields[2];
        foreach (var token in databases)
        {
            if (token.Value.StartsWith('@') && !token.IsKeyword)
            {
                error = $"database \"{token.Value}\": @file inclusion is not supported; list the names instead";
                return null;
            }
        }

        foreach (var token in users)
        {
            if (token.Value.StartsWith('@') && !token.IsKeyword)
            {
                error = $"user \"{token.Value}\": @file inclusion is not supported; list the names instead";
                return null;
            }
        }

        IPAddress? network = null;
        var prefix = 0;
        var anyAddress = false;
        var next = 3;
        if (type != HbaConnectionType.Local)
        {
            var addressField = fields[3];
            if (addressField.Count != 1)
            {
                error = "the address field holds one address (no lists)";
                return null;
            }

            var address = addressField[0];
            next = 4;
            if (address.IsKeyword && address.Value == "all")
            {
                anyAddress = true;
            }
            else if (address.IsKeyword)
            {
                error = $"address \"{address.Value}\" is not supported; use a CIDR such as 10.0.0.0/8 or all";
                return null;
            }
            else if (!TryParseAddress(address.Value, fields, ref next, out network, out prefix, out error))
            {
                return null;
            }
        }

        if (fields.Count <= next)
        {
            error = "the authentication method is missing";
            return null;
        }

        var methodField = fields[next];
        if (methodField.Count != 1)
        {
            error = "the authentication method must be one word";
            return null;
        }

        HbaMethod method;
        switch (methodField[0].Value)
        {
            case "trust": method = HbaMethod.Trust; break;
            case "reject": method = HbaMethod.Reject; break;
            case "md5": method = HbaMethod.Md5; break;
            case "password": method = HbaMethod.Password; break;
            case "scram-sha-256": method = HbaMethod.ScramSha256; break;
            case "peer": method = HbaMethod.Peer; break;
            case "cert": method = HbaMethod.Cert; break;
            default:
                error = $"authentication method \"{methodField[0].Value}\" is not supported " +
                    "(supported: trust, reject, md5, password, scram-sha-256, peer, cert)";
                return null;
        }

        return new HbaRule(lineNumber, text, type, databases, users, network, prefix, anyAddress, method);
    }

    private static bool TryParseAddress(
        string text, List<List<HbaToken>> fields, ref int next, out IPAddress? network, out int prefix, out string? error)
    {
        network = null;
        prefix = 0;
        error = null;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            if (!IPAddress.TryParse(text.AsSpan(0, slash), out network)
                || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix)
                || prefix > HbaRule.MaxPrefix(network.AddressFamily))
            {
                error = $"\"{text}\" is not a valid CIDR (e.g. 10.0.0.0/8 or ::1/128)";
                return false;
            }

            return true;
        }

        if (!IPAddress.TryParse(text, out network))
        {
            error = $"address \"{text}\" is not an IP address or CIDR; host names are not supported";
            return false;
        }

        // "address mask" form: the mask is the next field.
        if (fields.Count <= next + 1 || fields[next].Count != 1 || !IPAddress.TryParse(fields[next][0].Value, out var mask)
            || mask.AddressFamily != network.AddressFamily)
        {
            error = $"address \"{text}\" needs a prefix length (\"{text}/32\") or a netmask in the next field";
            return false;
        }

        var bytes = mask.GetAddressBytes();
        var seenZero = false;
        foreach (var b in bytes)
        {
            for (var bit = 7; bit >= 0; bit--)
            {
                var set = (b & (1 << bit)) != 0;
                if (set && seenZero)
                {
                    error = $"netmask {fields[next][0].Value} is not contiguous";
                    return false;
                }

                if (set)
                {
                    prefix++;
                }
                else
                {
                    seenZero = true;
                }
            }
        }

        next++;
        return true;
    }

    /// <summary>Splits a line into fields of comma-separated tokens, as PostgreSQL's hba tokenizer does.</summary>
    private static List<List<HbaToken>> Tokenize(string line)
    {
        var fields = new List<List<HbaToken>>();
        List<HbaToken>? field = null;
        var i = 0;
        while (i < line.Length)
        {
            var c = line[i];
            if (c == '#')
            {
                break;
            }

            if (c is ' ' or '\t')
            {
                field = null;
                i++;
                continue;
            }

            var builder = new StringBuilder();
            var quoted = false;
            var wasQuoted = false;
            while (i < line.Length)
            {
                c = line[i];
                if (quoted)
                {
                    if (c == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            builder.Append('"');
                            i += 2;
                            continue;
                        }

                        quoted = false;
                        i++;
                        continue;
                    }

                    builder.Append(c);
                    i++;
                    continue;
                }

                if (c == '"')
                {
                    quoted = true;
                    wasQuoted = true;
                    i++;
                    continue;
                }

                if (c is ' ' or '\t' or ',' or '#')
                {
                    break;
                }

                builder.Append(c);
                i++;
            }

            if (quoted)
            {
                throw new FormatException("unterminated quoted string");
            }

            var value = builder.ToString();
            var isKeyword = !wasQuoted && value is "all" or "sameuser" or "samerole" or "samegroup" or "replication" or "samehost" or "samenet";
            var isGroup = !wasQuoted && value.StartsWith('+');
            if (isGroup)
            {
                value = value.Substring(1);
            }

            if (field is null)
            {
                field = [];
                fields.Add(field);
            }

            field.Add(new HbaToken(value, isKeyword, isGroup));
            if (i < line.Length && line[i] == ',')
            {
                // A comma continues the same field, even across following blanks.
                i++;
                while (i < line.Length && line[i] is ' ' or '\t')
                {
                    i++;
                }

                continue;
            }

            field = null;
        }

        return fields;
    }
}
