namespace PgGate.Config;

/// <summary>Where a configured value was written, so every error and <c>check-config</c> line can point at it.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    public static readonly SourceLocation None = new("", 0, 0);

    public bool IsKnown => Line > 0;

    public override string ToString() => IsKnown ? $"{File}:{Line}:{Column}" : File;
}
