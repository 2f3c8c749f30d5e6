namespace PgGate.Sandbox;

/// <summary>A login role the sandbox creates on the primary (replicas get it through replication).</summary>
public sealed record LocalClusterUser(string Name, string Password)
{
    public bool Superuser { get; init; }

    /// <summary>May open replication connections; the sandbox clones replicas as the first such user.</summary>
    public bool Replication { get; init; }

    /// <summary>Roles the user is made a member of, e.g. <c>pg_monitor</c>.</summary>
    public IReadOnlyList<string> MemberOf { get; init; } = [];

    /// <summary>Pigsty's administrator.</summary>
    public static LocalClusterUser Dba { get; } = new("dbuser_dba", "DBUser.DBA") { Superuser = true };

    /// <summary>Pigsty's monitoring user; PgGate's SQL health checks log in as it.</summary>
    public static LocalClusterUser Monitor { get; } = new("dbuser_monitor", "DBUser.Monitor") { MemberOf = ["pg_monitor"] };

    /// <summary>Pigsty's sandbox business user, owner of database <c>test</c>.</summary>
    public static LocalClusterUser Test { get; } = new("test", "test");

    /// <summary>Pigsty's offline/ETL user.</summary>
    public static LocalClusterUser Stats { get; } = new("dbuser_stats", "DBUser.Stats");

    /// <summary>Pigsty's replication user.</summary>
    public static LocalClusterUser Replicator { get; } = new("replicator", "DBUser.Replicator") { Replication = true };

    /// <summary>The users a Pigsty sandbox has, with Pigsty's default passwords.</summary>
    public static IReadOnlyList<LocalClusterUser> PigstyDefaults { get; } = [Dba, Monitor, Test, Stats, Replicator];
}
