namespace PgGate.Protocol;

/// <summary>
/// The fields of an ErrorResponse or NoticeResponse (PostgreSQL "Error and Notice Message Fields").
/// Severity is the possibly localised S field; InvariantSeverity is the V field, which is never translated.
/// </summary>
public sealed record PgErrorFields
{
    public required string Severity { get; init; }

    public string? InvariantSeverity { get; init; }

    public required string SqlState { get; init; }

    public required string Message { get; init; }

    public string? Detail { get; init; }

    public string? Hint { get; init; }

    /// <summary>1-based character position in the query text, as sent (P).</summary>
    public string? Position { get; init; }

    public string? InternalPosition { get; init; }

    public string? InternalQuery { get; init; }

    public string? Where { get; init; }

    public string? SchemaName { get; init; }

    public string? TableName { get; init; }

    public string? ColumnName { get; init; }

    public string? DataTypeName { get; init; }

    public string? ConstraintName { get; init; }

    public string? File { get; init; }

    public string? Line { get; init; }

    public string? Routine { get; init; }

    /// <summary>The severity to act on: V when the server sent it, else S.</summary>
    public string EffectiveSeverity => InvariantSeverity ?? Severity;

    /// <summary>FATAL and PANIC end the session; the server closes the connection after sending them.</summary>
    public bool IsFatal =>
        EffectiveSeverity is ErrorSeverity.Fatal or ErrorSeverity.Panic;
}
