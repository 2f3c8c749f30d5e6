namespace PgGate.Protocol.Client;

/// <summary>The server answered with an ErrorResponse.</summary>
public sealed class PgServerException : PgException
{
    public PgServerException(PgErrorFields fields)
        : base(Format(fields))
    {
        Fields = fields;
    }

    /// <summary>Every field the server sent.</summary>
    public PgErrorFields Fields { get; }

    public string Severity => Fields.EffectiveSeverity;

    public string SqlState => Fields.SqlState;

    /// <summary>The server's primary message (M), without the severity and SQLSTATE that <see cref="Exception.Message"/> adds.</summary>
    public string MessageText => Fields.Message;

    public string? Detail => Fields.Detail;

    public string? Hint => Fields.Hint;

    private static string Format(PgErrorFields fields) =>
        fields.Detail is null
            ? $"{fields.EffectiveSeverity} {fields.SqlState}: {fields.Message}"
            : $"{fields.EffectiveSeverity} {fields.SqlState}: {fields.Message} ({fields.Detail})";
}
