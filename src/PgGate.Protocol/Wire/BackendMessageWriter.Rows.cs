using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace PgGate.Protocol;

public static partial class BackendMessageWriter
{
    /// <summary>RowDescription; see <see cref="PgColumn"/> for the defaults of a computed text column.</summary>
    public static void WriteRowDescription(IBufferWriter<byte> writer, ReadOnlySpan<PgColumn> columns)
    {
        if (columns.Length > short.MaxValue)
        {
            throw new ArgumentException($"A row has at most {short.MaxValue} columns, got {columns.Length}.", nameof(columns));
        }

        var payloadLength = 2;
        foreach (var column in columns)
        {
            payloadLength = checked(payloadLength + WireEncoding.CStringLength(column.Name, nameof(columns)) + 18);
        }

        var span = WireEncoding.BeginMessage(writer, BackendMessageCode.RowDescription, payloadLength);
        BinaryPrimitives.WriteInt16BigEndian(span.Slice(5), (short)columns.Length);
        var position = 7;
        foreach (var column in columns)
        {
            position += WireEncoding.WriteCString(span.Slice(position), column.Name);
            var field = span.Slice(position, 18);
            BinaryPrimitives.WriteUInt32BigEndian(field, column.TableOid);
            BinaryPrimitives.WriteInt16BigEndian(field.Slice(4), column.ColumnNumber);
            BinaryPrimitives.WriteUInt32BigEndian(field.Slice(6), column.TypeOid);
            BinaryPrimitives.WriteInt16BigEndian(field.Slice(10), column.TypeSize);
            BinaryPrimitives.WriteInt32BigEndian(field.Slice(12), column.TypeModifier);
            BinaryPrimitives.WriteInt16BigEndian(field.Slice(16), column.FormatCode);
            position += 18;
        }

        writer.Advance(position);
    }

    /// <summary>DataRow of text-format values, UTF-8 encoded; null is SQL NULL (length -1).</summary>
    public static void WriteDataRow(IBufferWriter<byte> writer, ReadOnlySpan<string?> values)
    {
        if (values.Length > short.MaxValue)
        {
            throw new ArgumentException($"A row has at most {short.MaxValue} columns, got {values.Length}.", nameof(values));
        }

        var payloadLength = 2;
        foreach (var value in values)
        {
            payloadLength = checked(payloadLength + 4 + (value is null ? 0 : Encoding.UTF8.GetByteCount(value)));
        }

        var span = WireEncoding.BeginMessage(writer, BackendMessageCode.DataRow, payloadLength);
        BinaryPrimitives.WriteInt16BigEndian(span.Slice(5), (short)values.Length);
        var position = 7;
        foreach (var value in values)
        {
            if (value is null)
            {
                BinaryPrimitives.WriteInt32BigEndian(span.Slice(position), -1);
                position += 4;
                continue;
            }

            var count = Encoding.UTF8.GetBytes(value, span.Slice(position + 4));
            BinaryPrimitives.WriteInt32BigEndian(span.Slice(position), count);
            position += 4 + count;
        }

        writer.Advance(position);
    }
}
