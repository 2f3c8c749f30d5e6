namespace PgGate.Pooling;

/// <summary>One database as SHOW DATABASES lists it: a <c>[databases]</c> entry, or a name served by the "*" entry
/// (<see cref="IsAutomatic"/>) once a client used it.</summary>
public sealed record DatabaseInfo
{
    /// <summary>name</summary>
    public required string Name { get; init; }

    /// <summary>host: null when the entry names none (PostgreSQL's Unix socket directory, or the service's router).</summary>
    public string? Host { get; init; }

    /// <summary>port</summary>
    public int Port { get; init; }

    /// <summary>database: the name on the server.</summary>
    public required string ServerDatabase { get; init; }

    /// <summary>force_user</summary>
    public string? ForceUser { get; init; }

    /// <summary>pool_size</summary>
    public int PoolSize { get; init; }

    /// <summary>min_pool_size</summary>
    public int MinPoolSize { get; init; }

    /// <summary>reserve_pool</summary>
    public int ReservePool { get; init; }

    /// <summary>pool_mode: the entry's own mode, null when the global one applies.</summary>
    public PoolMode? PoolMode { get; init; }

    /// <summary>max_connections: max_db_connections for this database (0 = unlimited).</summary>
    public int MaxConnections { get; init; }

    /// <summary>current_connections: server connections open for this database.</summary>
    public int CurrentConnections { get; init; }

    /// <summary>paused</summary>
    public bool Paused { get; init; }

    /// <summary>disabled: DISABLE refuses the database's new clients until ENABLE.</summary>
    public bool Disabled { get; init; }

    /// <summary>Served by the "*" entry rather than a line of its own.</summary>
    public bool IsAutomatic { get; init; }
}
