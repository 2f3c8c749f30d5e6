using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;

namespace PgGate.Protocol.Auth;

/// <summary>
/// A SCRAM-SHA-256 verifier as PostgreSQL stores it in pg_authid.rolpassword (and PgBouncer in userlist.txt):
/// <c>SCRAM-SHA-256$&lt;iterations&gt;:&lt;salt&gt;$&lt;StoredKey&gt;:&lt;ServerKey&gt;</c>, binary parts in base64.
/// </summary>
public sealed class ScramVerifier
{
    public const string Prefix = "SCRAM-SHA-256$";

    /// <summary>PostgreSQL's default scram_iterations.</summary>
    public const int DefaultIterations = 4096;

    public ScramVerifier(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey)
    {
        if (iterations <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "The iteration count must be positive.");
        }

        if (salt.Length == 0)
        {
            throw new ArgumentException("The salt cannot be empty.", nameof(salt));
        }

        if (storedKey.Length != ScramPrimitives.KeyLength || serverKey.Length != ScramPrimitives.KeyLength)
        {
            throw new ArgumentException($"StoredKey and ServerKey are {ScramPrimitives.KeyLength} bytes each.", nameof(storedKey));
        }

        Iterations = iterations;
        Salt = salt;
        StoredKey = storedKey;
        ServerKey = serverKey;
    }

    public int Iterations { get; }

    public byte[] Salt { get; }

    public byte[] StoredKey { get; }

    public byte[] ServerKey { get; }

    /// <summary>Derives a verifier from a password, with a fresh random 16-byte salt unless one is given.</summary>
    public static ScramVerifier Create(string password, byte[]? salt = null, int iterations = DefaultIterations)
    {
        salt ??= RandomNumberGenerator.GetBytes(ScramPrimitives.DefaultSaltLength);
        var saltedPassword = ScramPrimitives.SaltedPassword(password, salt, iterations);
        var clientKey = ScramPrimitives.ClientKey(saltedPassword);
        return new ScramVerifier(
            iterations, salt, ScramPrimitives.StoredKey(clientKey), ScramPrimitives.ServerKey(saltedPassword));
    }

    /// <summary>True when <paramref name="text"/> claims to be a SCRAM-SHA-256 verifier (it may still be malformed).</summary>
    public static bool IsScramVerifier([NotNullWhen(true)] string? text) =>
        text is not null && text.StartsWith(Prefix, StringComparison.Ordinal);

    public static ScramVerifier Parse(string text) =>
        TryParse(text, out var verifier, out var error) ? verifier : throw new FormatException(error);

    public static bool TryParse(string? text, [NotNullWhen(true)] out ScramVerifier? verifier, [NotNullWhen(false)] out string? error)
    {
        verifier = null;
        if (!IsScramVerifier(text))
        {
            error = $"A SCRAM verifier must start with \"{Prefix}\".";
            return false;
        }

        // <iterations>:<salt>$<StoredKey>:<ServerKey>
        var rest = text.AsSpan(Prefix.Length);
        var dollar = rest.IndexOf('$');
        if (dollar < 0)
        {
            error = "A SCRAM verifier has the form SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, but the second '$' is missing.";
            return false;
        }

        var head = rest.Slice(0, dollar);
        var keys = rest.Slice(dollar + 1);
        var headColon = head.IndexOf(':');
        var keysColon = keys.IndexOf(':');
        if (headColon < 0 || keysColon < 0)
        {
            error = "A SCRAM verifier has the form SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, but a ':' is missing.";
            return false;
        }

        if (!int.TryParse(head.Slice(0, headColon), NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations <= 0)
        {
            error = $"The iteration count \"{head.Slice(0, headColon)}\" of the SCRAM verifier is not a positive integer.";
            return false;
        }

        if (!TryDecode(head.Slice(headColon + 1), out var salt) || salt.Length == 0)
        {
            error = "The salt of the SCRAM verifier is not valid base64.";
            return false;
        }

        if (!TryDecode(keys.Slice(0, keysColon), out var storedKey) || storedKey.Length != ScramPrimitives.KeyLength)
        {
            error = $"The StoredKey of the SCRAM verifier is not {ScramPrimitives.KeyLength} bytes of base64.";
            return false;
        }

        if (!TryDecode(keys.Slice(keysColon + 1), out var serverKey) || serverKey.Length != ScramPrimitives.KeyLength)
        {
            error = $"The ServerKey of the SCRAM verifier is not {ScramPrimitives.KeyLength} bytes of base64.";
            return false;
        }

        verifier = new ScramVerifier(iterations, salt, storedKey, serverKey);
        error = null;
        return true;
    }

    /// <summary>Checks a password against this verifier in constant time (for cleartext-password authentication).</summary>
    public bool Matches(string password)
    {
        var saltedPassword = ScramPrimitives.SaltedPassword(password, Salt, Iterations);
        var storedKey = ScramPrimitives.StoredKey(ScramPrimitives.ClientKey(saltedPassword));
        return CryptographicOperations.FixedTimeEquals(storedKey, StoredKey)
            & CryptographicOperations.FixedTimeEquals(ScramPrimitives.ServerKey(saltedPassword), ServerKey);
    }

    /// <summary>The verifier in PostgreSQL's text form.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"{Prefix}{Iterations}:{Convert.ToBase64String(Salt)}${Convert.ToBase64String(StoredKey)}:{Convert.ToBase64String(ServerKey)}");

    private static bool TryDecode(ReadOnlySpan<char> base64, [NotNullWhen(true)] out byte[]? bytes)
    {
        var buffer = new byte[(base64.Length * 3 / 4) + 3];
        if (Convert.TryFromBase64Chars(base64, buffer, out var written))
        {
            bytes = buffer.AsSpan(0, written).ToArray();
            return true;
        }

        bytes = null;
        return false;
    }
}
