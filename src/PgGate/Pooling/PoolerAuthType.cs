namespace PgGate.Pooling;

/// <summary>How the pooler authenticates clients (PgBouncer's <c>auth_type</c>).</summary>
public enum PoolerAuthType
{
    /// <summary>No password; the user name is taken as given (PgBouncer <c>trust</c>).</summary>
    Trust,

    /// <summary>Cleartext password checked against any kind of stored secret (PgBouncer <c>plain</c>, pg_hba <c>password</c>).</summary>
    Password,

    /// <summary>MD5 challenge; users whose stored secret is a SCRAM verifier get SCRAM instead, as in PostgreSQL.</summary>
    Md5,

    /// <summary>SCRAM-SHA-256 against a stored verifier or a plain password.</summary>
    ScramSha256,

    /// <summary>The method comes from the first matching line of <c>auth_hba_file</c> (pg_hba.conf format).</summary>
    Hba,
}
