namespace PgGate.Protocol.Auth;

/// <summary>
/// The two secrets a SCRAM client needs instead of a password. A server that verified a client recovers them
/// (see <see cref="ScramSha256Server.RecoveredKeys"/>), which lets a pooler log in to PostgreSQL as that client
/// without knowing its password, provided PostgreSQL's verifier has the same salt and iterations.
/// </summary>
public sealed class ScramKeys
{
    public ScramKeys(byte[] clientKey, byte[] serverKey, byte[]? salt = null, int iterations = 0)
    {
        if (clientKey.Length != ScramPrimitives.KeyLength || serverKey.Length != ScramPrimitives.KeyLength)
        {
            throw new ArgumentException($"SCRAM-SHA-256 keys are {ScramPrimitives.KeyLength} bytes.", nameof(clientKey));
        }

        ClientKey = clientKey;
        ServerKey = serverKey;
        Salt = salt;
        Iterations = iterations;
    }

    /// <summary>Derives the keys from a password the way the server derived its verifier (PBKDF2: milliseconds of CPU).</summary>
    public static ScramKeys Derive(string password, byte[] salt, int iterations)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(salt);
        var saltedPassword = ScramPrimitives.SaltedPassword(password, salt, iterations);
        return new ScramKeys(ScramPrimitives.ClientKey(saltedPassword), ScramPrimitives.ServerKey(saltedPassword), salt, iterations);
    }

    public byte[] ClientKey { get; }

    public byte[] ServerKey { get; }

    /// <summary>The salt the keys were derived with, when known; lets a client explain a verifier mismatch.</summary>
    public byte[]? Salt { get; }

    /// <summary>The iteration count the keys were derived with, or 0 when unknown.</summary>
    public int Iterations { get; }
}
