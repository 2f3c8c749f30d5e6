namespace PgGate.Protocol.Client;

/// <summary>One statement's result: its columns, its rows as text (null is SQL NULL) and its command tag.</summary>
public sealed class PgResultSet
{
    public PgResultSet(IReadOnlyList<PgColumn> columns, IReadOnlyList<string?[]> rows, string commandTag)
    {
        Columns = columns;
        Rows = rows;
        CommandTag = commandTag;
    }

    /// <summary>Empty for statements that return no rows (SET, INSERT without RETURNING...).</summary>
    public IReadOnlyList<PgColumn> Columns { get; }

    public IReadOnlyList<string?[]> Rows { get; }

    /// <summary>The CommandComplete tag, e.g. "SELECT 1", "UPDATE 3"; empty if the portal was suspended.</summary>
    public string CommandTag { get; }

    /// <summary>The first column of the first row, or null when there is none.</summary>
    public string? GetScalar() => Rows.Count > 0 && Rows[0].Length > 0 ? Rows[0][0] : null;

    /// <summary>The index of the first column called <paramref name="name"/>, or -1.</summary>
    public int GetOrdinal(string name)
    {
        for (var i = 0; i < Columns.Count; i++)
        {
            if (string.Equals(Columns[i].Name, name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
