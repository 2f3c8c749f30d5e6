namespace PgGate.Pooling;

/// <summary>One line of PgBouncer's <c>[users]</c> section: settings that override the global ones for one user.</summary>
public sealed record PoolerUser
{
    public required string Name { get; init; }

    /// <summary><c>pool_mode</c> for this user's pools; null keeps the database's or the global mode.</summary>
    public PoolMode? PoolMode { get; init; }

    /// <summary><c>max_user_connections</c>: server connections for this user per backend; null keeps the global limit, 0 is unlimited.</summary>
    public int? MaxUserConnections { get; init; }
}
