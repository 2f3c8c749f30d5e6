using System.Security.Cryptography;
using System.Text;

namespace PgGate.Protocol.Auth;

/// <summary>
/// PostgreSQL's MD5 password scheme. Stored form (pg_authid, userlist.txt): "md5" + md5hex(password + user).
/// On the wire, for a 4-byte salt: "md5" + md5hex(md5hex(password + user) + salt).
/// </summary>
public static class Md5Password
{
    public const string Prefix = "md5";

    /// <summary>Length of a stored hash: "md5" plus 32 hex digits.</summary>
    public const int StoredHashLength = 35;

    /// <summary>The stored form, as <c>select 'md5' || md5(password || user)</c> computes it.</summary>
    public static string HashForStorage(string user, string password) =>
        Prefix + Md5Hex(Encoding.UTF8.GetBytes(password + user));

    /// <summary>The PasswordMessage a client sends for AuthenticationMD5Password with <paramref name="salt"/>.</summary>
    public static string Compute(string user, string password, ReadOnlySpan<byte> salt) =>
        ComputeFromStoredHash(HashForStorage(user, password), salt);

    /// <summary>The client's expected response computed from a stored "md5..." hash, without the password.</summary>
    public static string ComputeFromStoredHash(string storedHash, ReadOnlySpan<byte> salt)
    {
        if (!IsMd5Hash(storedHash))
        {
            throw new ArgumentException("A stored MD5 password is \"md5\" followed by 32 hex digits.", nameof(storedHash));
        }

        if (salt.Length != 4)
        {
            throw new ArgumentException($"An MD5 salt is 4 bytes, got {salt.Length}.", nameof(salt));
        }

        // PostgreSQL writes lowercase hex; accept uppercase from hand-edited userlist files.
        Span<char> lowerHex = stackalloc char[32];
        storedHash.AsSpan(Prefix.Length).ToLowerInvariant(lowerHex);
        Span<byte> input = stackalloc byte[32 + 4];
        Encoding.ASCII.GetBytes(lowerHex, input);
        salt.CopyTo(input.Slice(32));
        return Prefix + Md5Hex(input);
    }

    /// <summary>Checks a client's MD5 response against a stored hash in constant time.</summary>
    public static bool Verify(string clientResponse, string storedHash, ReadOnlySpan<byte> salt)
    {
        var expected = Encoding.ASCII.GetBytes(ComputeFromStoredHash(storedHash, salt));
        var actual = Encoding.UTF8.GetBytes(clientResponse);
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }

    public static bool IsMd5Hash(string? text)
    {
        if (text is null || text.Length != StoredHashLength || !text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in text.AsSpan(Prefix.Length))
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static string Md5Hex(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[16];
        MD5.HashData(data, hash);
        return Convert.ToHexStringLower(hash);
    }
}
