namespace PgGate.Sandbox;

/// <summary>A database the sandbox creates on the primary, owned by one of its users.</summary>
public sealed record LocalClusterDatabase(string Name, string Owner)
{
    /// <summary>Pigsty's sandbox database.</summary>
    public static LocalClusterDatabase Test { get; } = new("test", "test");
}
