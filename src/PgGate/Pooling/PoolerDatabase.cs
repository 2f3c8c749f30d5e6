namespace PgGate.Pooling;

/// <summary>
/// One line of PgBouncer's <c>[databases]</c> section: where the clients of database <see cref="Name"/> are sent and how
/// their pools are sized. <see cref="Name"/> <c>*</c> is the fallback entry for any database not listed. Null values fall
/// back to the global settings (or, for <see cref="DbName"/>, to the name the client asked for).
/// </summary>
public sealed record PoolerDatabase
{
    /// <summary>The name PgBouncer listens for; the fallback entry is <see cref="FallbackName"/>.</summary>
    public const string FallbackName = "*";

    public required string Name { get; init; }

    /// <summary>IP address, host name, or a directory holding PostgreSQL's Unix socket (starts with '/'). Null: the
    /// backend resolver decides (a service with <c>dest: pool</c>), or <c>/var/run/postgresql</c> for the node pooler.</summary>
    public string? Host { get; init; }

    public int Port { get; init; } = 5432;

    /// <summary>The database name on the server; null means the name the client asked for.</summary>
    public string? DbName { get; init; }

    /// <summary>A fixed server login user: every client of this database then shares one pool per backend.</summary>
    public string? User { get; init; }

    /// <summary>Password of <see cref="User"/> (plain, <c>md5...</c> or a SCRAM verifier is not enough for SCRAM).</summary>
    public string? Password { get; init; }

    /// <summary><c>pool_size</c>; null uses <c>default_pool_size</c>.</summary>
    public int? PoolSize { get; init; }

    /// <summary><c>min_pool_size</c>; null uses the global value.</summary>
    public int? MinPoolSize { get; init; }

    /// <summary><c>reserve_pool</c>; null uses <c>reserve_pool_size</c>.</summary>
    public int? ReservePool { get; init; }

    /// <summary><c>pool_mode</c>; null uses the user's or the global mode.</summary>
    public PoolMode? PoolMode { get; init; }

    /// <summary><c>max_db_connections</c> for this database per backend; null uses the global value, 0 is unlimited.</summary>
    public int? MaxDbConnections { get; init; }

    /// <summary><c>auth_user</c> whose <c>auth_query</c> looks up the passwords of this database's clients.</summary>
    public string? AuthUser { get; init; }

    public bool IsFallback => Name == FallbackName;
}
