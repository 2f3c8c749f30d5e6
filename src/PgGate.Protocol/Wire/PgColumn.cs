namespace PgGate.Protocol;

/// <summary>One field of a RowDescription. Defaults describe a text-format column not taken from a table.</summary>
public readonly record struct PgColumn(
    string Name,
    uint TypeOid,
    short TypeSize = -1,
    int TypeModifier = -1,
    uint TableOid = 0,
    short ColumnNumber = 0,
    short FormatCode = 0);
