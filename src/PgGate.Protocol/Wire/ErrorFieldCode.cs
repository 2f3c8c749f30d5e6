namespace PgGate.Protocol;

/// <summary>The one-byte field identifiers of ErrorResponse and NoticeResponse.</summary>
public static class ErrorFieldCode
{
    public const byte Severity = (byte)'S';
    public const byte InvariantSeverity = (byte)'V';
    public const byte SqlState = (byte)'C';
    public const byte Message = (byte)'M';
    public const byte Detail = (byte)'D';
    public const byte Hint = (byte)'H';
    public const byte Position = (byte)'P';
    public const byte InternalPosition = (byte)'p';
    public const byte InternalQuery = (byte)'q';
    public const byte Where = (byte)'W';
    public const byte SchemaName = (byte)'s';
    public const byte TableName = (byte)'t';
    public const byte ColumnName = (byte)'c';
    public const byte DataTypeName = (byte)'d';
    public const byte ConstraintName = (byte)'n';
    public const byte File = (byte)'F';
    public const byte Line = (byte)'L';
    public const byte Routine = (byte)'R';
}
