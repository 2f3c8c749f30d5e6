using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using PgGate.Protocol;

namespace PgGate.Pooling.Console;

/// <summary>
/// A result set of the admin console: column names and types as PgBouncer 1.18 sends them, and rows of text values.
/// Written in text format for the simple query protocol; the extended protocol may ask for binary columns.
/// </summary>
internal sealed class ConsoleTable
{
    private readonly List<string?[]> _rows = [];

    public ConsoleTable(params (string Name, ConsoleColumnType Type)[] columns) => Columns = columns;

    public IReadOnlyList<(string Name, ConsoleColumnType Type)> Columns { get; }

    public IReadOnlyList<string?[]> Rows => _rows;

    public void Add(params string?[] values)
    {
        if (values.Length != Columns.Count)
        {
            throw new ArgumentException($"a row of {Columns.Count} columns got {values.Length} values", nameof(values));
        }

        _rows.Add(values);
    }

    /// <summary>RowDescription; <paramref name="formats"/> are Bind's result format codes (none: all text).</summary>
    public void WriteDescription(IBufferWriter<byte> writer, ReadOnlySpan<short> formats = default)
    {
        var columns = new PgColumn[Columns.Count];
        for (var i = 0; i < columns.Length; i++)
        {
            var (name, type) = Columns[i];
            columns[i] = type switch
            {
                ConsoleColumnType.Int4 => new PgColumn(name, PgTypeOid.Int4, 4, FormatCode: FormatOf(formats, i)),
                ConsoleColumnType.Numeric => new PgColumn(name, PgTypeOid.Numeric, -1, FormatCode: FormatOf(formats, i)),
                _ => new PgColumn(name, PgTypeOid.Text, -1, FormatCode: FormatOf(formats, i)),
            };
        }

        BackendMessageWriter.WriteRowDescription(writer, columns);
    }

    /// <summary>One DataRow per row, each column in the format Bind asked for.</summary>
    public void WriteRows(IBufferWriter<byte> writer, ReadOnlySpan<short> formats = default)
    {
        var binary = false;
        foreach (var format in formats)
        {
            binary |= format == 1;
        }

        foreach (var row in _rows)
        {
            if (!binary)
            {
                BackendMessageWriter.WriteDataRow(writer, row);
                continue;
            }

            WriteBinaryRow(writer, row, formats);
        }
    }

    private void WriteBinaryRow(IBufferWriter<byte> writer, string?[] row, ReadOnlySpan<short> formats)
    {
        var values = new byte[]?[row.Length];
        var length = 2;
        for (var i = 0; i < row.Length; i++)
        {
            values[i] = row[i] is null ? null : Encode(row[i]!, Columns[i].Type, FormatOf(formats, i) == 1);
            length += 4 + (values[i]?.Length ?? 0);
        }

        var span = writer.GetSpan(5 + length);
        span[0] = BackendMessageCode.DataRow;
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(1), 4 + length);
        BinaryPrimitives.WriteInt16BigEndian(span.Slice(5), (short)row.Length);
        var position = 7;
        foreach (var value in values)
        {
            BinaryPrimitives.WriteInt32BigEndian(span.Slice(position), value?.Length ?? -1);
            position += 4;
            if (value is not null)
            {
                value.CopyTo(span.Slice(position));
                position += value.Length;
            }
        }

        writer.Advance(position);
    }

    private static short FormatOf(ReadOnlySpan<short> formats, int column) =>
        formats.Length == 0 ? (short)0 : formats.Length == 1 ? formats[0] : column < formats.Length ? formats[column] : (short)0;

    private static byte[] Encode(string value, ConsoleColumnType type, bool binary)
    {
        if (!binary || type == ConsoleColumnType.Text)
        {
            return Encoding.UTF8.GetBytes(value);
        }

        var number = long.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture);
        if (type == ConsoleColumnType.Int4)
        {
            var bytes = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(bytes, checked((int)number));
            return bytes;
        }

        return EncodeNumeric(number);
    }

    /// <summary>PostgreSQL's binary numeric for an integer: base-10000 digits, weight, sign, scale 0.</summary>
    private static byte[] EncodeNumeric(long number)
    {
        var negative = number < 0;
        var magnitude = negative ? (ulong)(-(number + 1)) + 1 : (ulong)number;
        var digits = new List<short>();
        while (magnitude > 0)
        {
            digits.Insert(0, (short)(magnitude % 10000));
            magnitude /= 10000;
        }

        // Trailing zero groups are implied by the weight.
        var count = digits.Count;
        while (count > 0 && digits[count - 1] == 0)
        {
            count--;
        }

        var bytes = new byte[8 + 2 * count];
        BinaryPrimitives.WriteInt16BigEndian(bytes, (short)count);
        BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(2), (short)(digits.Count - 1));
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), negative ? (ushort)0x4000 : (ushort)0);
        BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(6), 0);
        for (var i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(8 + 2 * i), digits[i]);
        }

        return bytes;
    }
}
