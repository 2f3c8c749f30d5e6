namespace PgGate.Protocol;

/// <summary>OIDs of built-in types that PgGate describes in RowDescription (pg_type.oid).</summary>
public static class PgTypeOid
{
    public const uint Bool = 16;
    public const uint Bytea = 17;
    public const uint Name = 19;
    public const uint Int8 = 20;
    public const uint Int2 = 21;
    public const uint Int4 = 23;
    public const uint Text = 25;
    public const uint Oid = 26;
    public const uint Float4 = 700;
    public const uint Float8 = 701;
    public const uint Varchar = 1043;
    public const uint Timestamp = 1114;
    public const uint TimestampTz = 1184;
    public const uint Interval = 1186;
    public const uint Numeric = 1700;
}
