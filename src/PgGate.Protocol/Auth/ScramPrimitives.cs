using System.Security.Cryptography;
using System.Text;

namespace PgGate.Protocol.Auth;

/// <summary>The SCRAM-SHA-256 formulas of RFC 5802 §3 with SHA-256 (RFC 7677).</summary>
internal static class ScramPrimitives
{
    internal const int KeyLength = 32;
    internal const int DefaultSaltLength = 16;

    /// <summary>PostgreSQL's SCRAM_RAW_NONCE_LEN: 18 random bytes, 24 base64 characters.</summary>
    internal const int RawNonceLength = 18;

    private static readonly byte[] ClientKeyLabel = "Client Key"u8.ToArray();
    private static readonly byte[] ServerKeyLabel = "Server Key"u8.ToArray();

    /// <summary>SaltedPassword := Hi(Normalize(password), salt, i); Hi is PBKDF2 with HMAC-SHA-256 and a 32-byte output.</summary>
    internal static byte[] SaltedPassword(string password, ReadOnlySpan<byte> salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(
            Encoding.UTF8.GetBytes(SaslPrep.Normalize(password)), salt, iterations, HashAlgorithmName.SHA256, KeyLength);

    internal static byte[] ClientKey(ReadOnlySpan<byte> saltedPassword) => HMACSHA256.HashData(saltedPassword, ClientKeyLabel);

    internal static byte[] ServerKey(ReadOnlySpan<byte> saltedPassword) => HMACSHA256.HashData(saltedPassword, ServerKeyLabel);

    internal static byte[] StoredKey(ReadOnlySpan<byte> clientKey) => SHA256.HashData(clientKey);

    internal static byte[] Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data) => HMACSHA256.HashData(key, data);

    internal static byte[] Xor(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        var result = new byte[left.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = (byte)(left[i] ^ right[i]);
        }

        return result;
    }

    internal static string CreateNonce() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(RawNonceLength));

    /// <summary>RFC 5802 nonce characters: printable ASCII except ','.</summary>
    internal static bool IsValidNonce(ReadOnlySpan<char> nonce)
    {
        if (nonce.IsEmpty)
        {
            return false;
        }

        foreach (var c in nonce)
        {
            if (c < 0x21 || c > 0x7E || c == ',')
            {
                return false;
            }
        }

        return true;
    }
}
