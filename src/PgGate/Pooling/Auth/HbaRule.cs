using System.Net;
using System.Net.Sockets;

namespace PgGate.Pooling.Auth;

/// <summary>One parsed line of an HBA file. Lists are already split; keywords are kept apart from quoted names.</summary>
public sealed class HbaRule
{
    internal HbaRule(
        int line,
        string text,
        HbaConnectionType connectionType,
        IReadOnlyList<HbaToken> databases,
        IReadOnlyList<HbaToken> users,
        IPAddress? network,
        int prefixLength,
        bool anyAddress,
        HbaMethod method)
    {
        Line = line;
        Text = text;
        ConnectionType = connectionType;
        Databases = databases;
        Users = users;
        Network = network;
        PrefixLength = prefixLength;
        AnyAddress = anyAddress;
        Method = method;
    }

    /// <summary>1-based line number in the file.</summary>
    public int Line { get; }

    /// <summary>The line as written, for error messages.</summary>
    public string Text { get; }

    public HbaConnectionType ConnectionType { get; }

    public IReadOnlyList<HbaToken> Databases { get; }

    public IReadOnlyList<HbaToken> Users { get; }

    /// <summary>The network of a CIDR or address/mask; null for <c>local</c> lines and <c>all</c>.</summary>
    public IPAddress? Network { get; }

    public int PrefixLength { get; }

    public bool AnyAddress { get; }

    public HbaMethod Method { get; }

    internal bool Matches(bool tls, string database, string user, IPAddress address)
    {
        switch (ConnectionType)
        {
            case HbaConnectionType.Local:
                return false;
            case HbaConnectionType.HostSsl when !tls:
                return false;
            case HbaConnectionType.HostNoSsl when tls:
                return false;
        }

        return MatchesAddress(address) && MatchesDatabase(database, user) && MatchesUser(user);
    }

    private bool MatchesDatabase(string database, string user)
    {
        foreach (var token in Databases)
        {
            if (token.IsKeyword)
            {
                switch (token.Value)
                {
                    case "all":
                        return true;
                    case "sameuser" when database == user:
                        return true;
                }

                // replication and samerole never match: the pooler serves no replication connections and knows no roles.
                continue;
            }

            if (token.Value == database)
            {
                return true;
            }
        }

        return false;
    }

    private bool MatchesUser(string user)
    {
        foreach (var token in Users)
        {
            if (token.IsKeyword && token.Value == "all")
            {
                return true;
            }

            // +group needs role membership, which the pooler does not know: such a token never matches.
            if (!token.IsGroup && !token.IsKeyword && token.Value == user)
            {
                return true;
            }
        }

        return false;
    }

    private bool MatchesAddress(IPAddress address)
    {
        if (AnyAddress)
        {
            return true;
        }

        if (Network is null)
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != Network.AddressFamily)
        {
            return false;
        }

        Span<byte> actual = stackalloc byte[16];
        Span<byte> network = stackalloc byte[16];
        address.TryWriteBytes(actual, out var length);
        Network.TryWriteBytes(network, out _);
        var bits = PrefixLength;
        for (var i = 0; i < length && bits > 0; i++, bits -= 8)
        {
            var mask = bits >= 8 ? (byte)0xFF : (byte)(0xFF << (8 - bits));
            if ((actual[i] & mask) != (network[i] & mask))
            {
                return false;
            }
        }

        return true;
    }

    internal static int MaxPrefix(AddressFamily family) => family == AddressFamily.InterNetwork ? 32 : 128;
}

/// <summary>A database or user field entry: a name, a keyword (all, sameuser, ...) or a +group.</summary>
public readonly record struct HbaToken(string Value, bool IsKeyword, bool IsGroup);
