using System.Buffers;

namespace PgGate.Protocol;

public static partial class BackendMessageWriter
{
    /// <summary>
    /// ErrorResponse with the fields clients show: severity (S and V), SQLSTATE (C), message (M), detail (D), hint (H).
    /// Use <see cref="ErrorSeverity.Fatal"/> when the connection is closed right after, <see cref="ErrorSeverity.Error"/> otherwise.
    /// </summary>
    public static void WriteErrorResponse(
        IBufferWriter<byte> writer, string severity, string sqlState, string message, string? detail = null, string? hint = null) =>
        WriteNotice(writer, BackendMessageCode.ErrorResponse, severity, sqlState, message, detail, hint);

    /// <summary>NoticeResponse with the same fields as <see cref="WriteErrorResponse(IBufferWriter{byte}, string, string, string, string?, string?)"/>.</summary>
    public static void WriteNoticeResponse(
        IBufferWriter<byte> writer, string severity, string sqlState, string message, string? detail = null, string? hint = null) =>
        WriteNotice(writer, BackendMessageCode.NoticeResponse, severity, sqlState, message, detail, hint);

    /// <summary>ErrorResponse carrying every non-null field of <paramref name="fields"/> (V defaults to S).</summary>
    public static void WriteErrorResponse(IBufferWriter<byte> writer, PgErrorFields fields) =>
        WriteNotice(writer, BackendMessageCode.ErrorResponse, fields);

    public static void WriteNoticeResponse(IBufferWriter<byte> writer, PgErrorFields fields) =>
        WriteNotice(writer, BackendMessageCode.NoticeResponse, fields);

    private static void WriteNotice(
        IBufferWriter<byte> writer, byte code, string severity, string sqlState, string message, string? detail, string? hint)
    {
        var severityLength = WireEncoding.CStringLength(severity, nameof(severity));
        var payloadLength = 1
            + 2 * (1 + severityLength)
            + FieldLength(sqlState, nameof(sqlState))
            + FieldLength(message, nameof(message))
            + FieldLength(detail, nameof(detail))
            + FieldLength(hint, nameof(hint));
        var span = WireEncoding.BeginMessage(writer, code, payloadLength);
        var position = 5;
        WriteField(span, ref position, ErrorFieldCode.Severity, severity);
        WriteField(span, ref position, ErrorFieldCode.InvariantSeverity, severity);
        WriteField(span, ref position, ErrorFieldCode.SqlState, sqlState);
        WriteField(span, ref position, ErrorFieldCode.Message, message);
        WriteField(span, ref position, ErrorFieldCode.Detail, detail);
        WriteField(span, ref position, ErrorFieldCode.Hint, hint);
        span[position++] = 0;
        writer.Advance(position);
    }

    private static void WriteNotice(IBufferWriter<byte> writer, byte code, PgErrorFields fields)
    {
        var invariantSeverity = fields.InvariantSeverity ?? fields.Severity;
        var payloadLength = 1
            + FieldLength(fields.Severity, nameof(fields.Severity))
            + FieldLength(invariantSeverity, nameof(fields.InvariantSeverity))
            + FieldLength(fields.SqlState, nameof(fields.SqlState))
            + FieldLength(fields.Message, nameof(fields.Message))
            + FieldLength(fields.Detail, nameof(fields.Detail))
            + FieldLength(fields.Hint, nameof(fields.Hint))
            + FieldLength(fields.Position, nameof(fields.Position))
            + FieldLength(fields.InternalPosition, nameof(fields.InternalPosition))
            + FieldLength(fields.InternalQuery, nameof(fields.InternalQuery))
            + FieldLength(fields.Where, nameof(fields.Where))
            + FieldLength(fields.SchemaName, nameof(fields.SchemaName))
            + FieldLength(fields.TableName, nameof(fields.TableName))
            + FieldLength(fields.ColumnName, nameof(fields.ColumnName))
            + FieldLength(fields.DataTypeName, nameof(fields.DataTypeName))
            + FieldLength(fields.ConstraintName, nameof(fields.ConstraintName))
            + FieldLength(fields.File, nameof(fields.File))
            + FieldLength(fields.Line, nameof(fields.Line))
            + FieldLength(fields.Routine, nameof(fields.Routine));
        var span = WireEncoding.BeginMessage(writer, code, payloadLength);
        var position = 5;
        WriteField(span, ref position, ErrorFieldCode.Severity, fields.Severity);
        WriteField(span, ref position, ErrorFieldCode.InvariantSeverity, invariantSeverity);
        WriteField(span, ref position, ErrorFieldCode.SqlState, fields.SqlState);
        WriteField(span, ref position, ErrorFieldCode.Message, fields.Message);
        WriteField(span, ref position, ErrorFieldCode.Detail, fields.Detail);
        WriteField(span, ref position, ErrorFieldCode.Hint, fields.Hint);
        WriteField(span, ref position, ErrorFieldCode.Position, fields.Position);
        WriteField(span, ref position, ErrorFieldCode.InternalPosition, fields.InternalPosition);
        WriteField(span, ref position, ErrorFieldCode.InternalQuery, fields.InternalQuery);
        WriteField(span, ref position, ErrorFieldCode.Where, fields.Where);
        WriteField(span, ref position, ErrorFieldCode.SchemaName, fields.SchemaName);
        WriteField(span, ref position, ErrorFieldCode.TableName, fields.TableName);
        WriteField(span, ref position, ErrorFieldCode.ColumnName, fields.ColumnName);
        WriteField(span, ref position, ErrorFieldCode.DataTypeName, fields.DataTypeName);
        WriteField(span, ref position, ErrorFieldCode.ConstraintName, fields.ConstraintName);
        WriteField(span, ref position, ErrorFieldCode.File, fields.File);
        WriteField(span, ref position, ErrorFieldCode.Line, fields.Line);
        WriteField(span, ref position, ErrorFieldCode.Routine, fields.Routine);
        span[position++] = 0;
        writer.Advance(position);
    }

    private static int FieldLength(string? value, string paramName) =>
        value is null ? 0 : 1 + WireEncoding.CStringLength(value, paramName);

    private static void WriteField(Span<byte> span, ref int position, byte fieldCode, string? value)
    {
        if (value is null)
        {
            return;
        }

        span[position++] = fieldCode;
        position += WireEncoding.WriteCString(span.Slice(position), value);
    }
}
