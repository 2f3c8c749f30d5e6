using PgGate.Protocol.Auth;

namespace PgGate.Pooling.Auth;

/// <summary>What a stored password looks like, as in pg_authid.rolpassword and userlist.txt.</summary>
public enum UserSecretKind : byte
{
    /// <summary>Empty: no password; only trust (or a method that needs no password) admits the user.</summary>
    None,

    /// <summary>The password itself.</summary>
    Plain,

    /// <summary>"md5" + md5hex(password + user).</summary>
    Md5,

    /// <summary>"SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey".</summary>
    Scram,
}

/// <summary>
/// A user's stored secret. Derivations that cost milliseconds of CPU (a SCRAM verifier from a plain password, SCRAM
/// keys for a server's salt) are computed once and cached here, on the thread pool by the callers.
/// </summary>
public sealed class UserSecret
{
    private ScramVerifier? _verifier;
    private ScramKeys? _serverKeys;

    private UserSecret(string value, UserSecretKind kind, ScramVerifier? verifier)
    {
        Value = value;
        Kind = kind;
        _verifier = verifier;
    }

    public static UserSecret Empty { get; } = new(string.Empty, UserSecretKind.None, null);

    public string Value { get; }

    public UserSecretKind Kind { get; }

    /// <summary>Classifies <paramref name="value"/>. A malformed "SCRAM-SHA-256$..." string is treated as a plain
    /// password, as PostgreSQL does; <paramref name="warning"/> says so, for the operator.</summary>
    public static UserSecret Parse(string? value, out string? warning)
    {
        warning = null;
        if (string.IsNullOrEmpty(value))
        {
            return Empty;
        }

        if (ScramVerifier.IsScramVerifier(value))
        {
            if (ScramVerifier.TryParse(value, out var verifier, out var error))
            {
                return new UserSecret(value, UserSecretKind.Scram, verifier);
            }

            warning = error;
            return new UserSecret(value, UserSecretKind.Plain, null);
        }

        return Md5Password.IsMd5Hash(value)
            ? new UserSecret(value, UserSecretKind.Md5, null)
            : new UserSecret(value, UserSecretKind.Plain, null);
    }

    public static UserSecret Parse(string? value) => Parse(value, out _);

    /// <summary>The SCRAM verifier to check clients against: the stored one, or one derived from a plain password
    /// (PBKDF2, once). Null for MD5 and empty secrets, which cannot do SCRAM.</summary>
    public ScramVerifier? GetVerifier()
    {
        if (_verifier is not null || Kind != UserSecretKind.Plain)
        {
            return _verifier;
        }

        var derived = ScramVerifier.Create(Value);
        return Interlocked.CompareExchange(ref _verifier, derived, null) ?? derived;
    }

    /// <summary>True when <see cref="GetVerifier"/> will not run PBKDF2.</summary>
    public bool HasVerifierReady => _verifier is not null || Kind != UserSecretKind.Plain;

    /// <summary>SCRAM keys for logging in to a server whose verifier has this salt and iteration count (plain secrets only).</summary>
    public ScramKeys DeriveServerKeys(byte[] salt, int iterations)
    {
        if (Kind != UserSecretKind.Plain)
        {
            throw new InvalidOperationException("Only a plain password can be turned into SCRAM keys for a server.");
        }

        var cached = Volatile.Read(ref _serverKeys);
        if (cached is not null && cached.Iterations == iterations && cached.Salt is not null && cached.Salt.AsSpan().SequenceEqual(salt))
        {
            return cached;
        }

        var keys = ScramKeys.Derive(Value, salt, iterations);
        Volatile.Write(ref _serverKeys, keys);
        return keys;
    }

    /// <summary>The stored MD5 form for <paramref name="user"/> (MD5 and plain secrets), else null.</summary>
    public string? Md5HashFor(string user) => Kind switch
    {
        UserSecretKind.Md5 => Value,
        UserSecretKind.Plain => Md5Password.HashForStorage(user, Value),
        _ => null,
    };

    /// <summary>Checks a cleartext password. A SCRAM secret runs PBKDF2: call off the I/O threads.</summary>
    public bool MatchesCleartext(string user, string password)
    {
        switch (Kind)
        {
            case UserSecretKind.Plain:
                return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                    System.Text.Encoding.UTF8.GetBytes(Value), System.Text.Encoding.UTF8.GetBytes(password));
            case UserSecretKind.Md5:
                return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                    System.Text.Encoding.ASCII.GetBytes(Value.ToLowerInvariant()),
                    System.Text.Encoding.ASCII.GetBytes(Md5Password.HashForStorage(user, password)));
            case UserSecretKind.Scram:
                return _verifier!.Matches(password);
            default:
                return false;
        }
    }

    public override string ToString() => Kind switch
    {
        UserSecretKind.None => "(none)",
        UserSecretKind.Plain => "(plain)",
        UserSecretKind.Md5 => "(md5)",
        _ => "(scram-sha-256)",
    };
}
