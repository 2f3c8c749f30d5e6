using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace PgGate.Protocol;

/// <summary>
/// Decodes the payloads (the bytes after code and length) of the server messages PgGate needs to understand.
/// Each method returns false when the payload is malformed, so the caller decides how to report it.
/// </summary>
public static class BackendMessageReader
{
    /// <summary>Reads the fields of an ErrorResponse or NoticeResponse; unknown field codes are skipped, as the protocol asks.</summary>
    public static bool TryReadErrorFields(ReadOnlySpan<byte> payload, [NotNullWhen(true)] out PgErrorFields? fields)
    {
        string? severity = null, invariantSeverity = null, sqlState = null, message = null, detail = null, hint = null;
        string? position = null, internalPosition = null, internalQuery = null, where = null, schema = null, table = null;
        string? column = null, dataType = null, constraint = null, file = null, line = null, routine = null;
        var reader = new PayloadReader(payload);
        while (true)
        {
            if (!reader.TryReadByte(out var code))
            {
                fields = null;
                return false;
            }

            if (code == 0)
            {
                break;
            }

            if (!reader.TryReadCString(out var value))
            {
                fields = null;
                return false;
            }

            switch (code)
            {
                case ErrorFieldCode.Severity: severity = value; break;
                case ErrorFieldCode.InvariantSeverity: invariantSeverity = value; break;
                case ErrorFieldCode.SqlState: sqlState = value; break;
                case ErrorFieldCode.Message: message = value; break;
                case ErrorFieldCode.Detail: detail = value; break;
                case ErrorFieldCode.Hint: hint = value; break;
                case ErrorFieldCode.Position: position = value; break;
                case ErrorFieldCode.InternalPosition: internalPosition = value; break;
                case ErrorFieldCode.InternalQuery: internalQuery = value; break;
                case ErrorFieldCode.Where: where = value; break;
                case ErrorFieldCode.SchemaName: schema = value; break;
                case ErrorFieldCode.TableName: table = value; break;
                case ErrorFieldCode.ColumnName: column = value; break;
                case ErrorFieldCode.DataTypeName: dataType = value; break;
                case ErrorFieldCode.ConstraintName: constraint = value; break;
                case ErrorFieldCode.File: file = value; break;
                case ErrorFieldCode.Line: line = value; break;
                case ErrorFieldCode.Routine: routine = value; break;
            }
        }

        // S, C and M are always present in PostgreSQL's messages; tolerate their absence rather than lose the rest.
        fields = new PgErrorFields
        {
            Severity = severity ?? invariantSeverity ?? ErrorSeverity.Error,
            InvariantSeverity = invariantSeverity,
            SqlState = sqlState ?? SqlState.InternalError,
            Message = message ?? string.Empty,
            Detail = detail,
            Hint = hint,
            Position = position,
            InternalPosition = internalPosition,
            InternalQuery = internalQuery,
            Where = where,
            SchemaName = schema,
            TableName = table,
            ColumnName = column,
            DataTypeName = dataType,
            ConstraintName = constraint,
            File = file,
            Line = line,
            Routine = routine,
        };
        return true;
    }

    public static bool TryReadParameterStatus(ReadOnlySpan<byte> payload, out string name, out string value)
    {
        var reader = new PayloadReader(payload);
        value = string.Empty;
        return reader.TryReadCString(out name) && reader.TryReadCString(out value) && reader.Remaining == 0;
    }

    /// <summary>BackendKeyData: the process id and the secret key (4 bytes in protocol 3.0, up to 256 in 3.2).</summary>
    public static bool TryReadBackendKeyData(ReadOnlySpan<byte> payload, out int processId, [NotNullWhen(true)] out byte[]? secretKey)
    {
        var reader = new PayloadReader(payload);
        if (reader.TryReadInt32(out processId)
            && reader.Remaining >= ProtocolConstants.MinCancelKeyLength
            && reader.Remaining <= ProtocolConstants.MaxCancelKeyLength)
        {
            secretKey = reader.Rest.ToArray();
            return true;
        }

        secretKey = null;
        return false;
    }

    public static bool TryReadReadyForQuery(ReadOnlySpan<byte> payload, out TransactionStatus status)
    {
        status = payload.Length == 1 ? (TransactionStatus)payload[0] : default;
        return payload.Length == 1 && status is TransactionStatus.Idle or TransactionStatus.InTransaction or TransactionStatus.Failed;
    }

    /// <summary>An Authentication message: its subtype and the bytes after it (salt, SASL mechanisms or SASL data).</summary>
    public static bool TryReadAuthentication(ReadOnlySpan<byte> payload, out AuthenticationRequestType type, out ReadOnlySpan<byte> data)
    {
        var reader = new PayloadReader(payload);
        if (reader.TryReadInt32(out var subtype))
        {
            type = (AuthenticationRequestType)subtype;
            data = reader.Rest;
            return true;
        }

        type = default;
        data = default;
        return false;
    }

    /// <summary>The mechanism list of AuthenticationSASL (the data after the subtype).</summary>
    public static bool TryReadSaslMechanisms(ReadOnlySpan<byte> data, [NotNullWhen(true)] out string[]? mechanisms)
    {
        var list = new List<string>(2);
        var reader = new PayloadReader(data);
        while (true)
        {
            if (!reader.TryReadCString(out var mechanism))
            {
                mechanisms = null;
                return false;
            }

            if (mechanism.Length == 0)
            {
                mechanisms = list.ToArray();
                return true;
            }

            list.Add(mechanism);
        }
    }

    public static bool TryReadRowDescription(ReadOnlySpan<byte> payload, [NotNullWhen(true)] out PgColumn[]? columns)
    {
        var reader = new PayloadReader(payload);
        columns = null;
        if (!reader.TryReadInt16(out var count) || count < 0)
        {
            return false;
        }

        var result = new PgColumn[count];
        for (var i = 0; i < result.Length; i++)
        {
            if (!reader.TryReadCString(out var name)
                || !reader.TryReadInt32(out var tableOid)
                || !reader.TryReadInt16(out var columnNumber)
                || !reader.TryReadInt32(out var typeOid)
                || !reader.TryReadInt16(out var typeSize)
                || !reader.TryReadInt32(out var typeModifier)
                || !reader.TryReadInt16(out var formatCode))
            {
                return false;
            }

            result[i] = new PgColumn(name, (uint)typeOid, typeSize, typeModifier, (uint)tableOid, columnNumber, formatCode);
        }

        columns = result;
        return reader.Remaining == 0;
    }

    /// <summary>A DataRow whose columns are all in text format; null entries are SQL NULL.</summary>
    public static bool TryReadDataRow(ReadOnlySpan<byte> payload, [NotNullWhen(true)] out string?[]? values)
    {
        var reader = new PayloadReader(payload);
        values = null;
        if (!reader.TryReadInt16(out var count) || count < 0)
        {
            return false;
        }

        var result = new string?[count];
        for (var i = 0; i < result.Length; i++)
        {
            if (!reader.TryReadInt32(out var length))
            {
                return false;
            }

            if (length == -1)
            {
                continue;
            }

            if (!reader.TryReadBytes(length, out var bytes))
            {
                return false;
            }

            result[i] = Encoding.UTF8.GetString(bytes);
        }

        values = result;
        return reader.Remaining == 0;
    }

    /// <summary>The command tag of CommandComplete, e.g. "SELECT 1", "INSERT 0 3", "SET".</summary>
    public static bool TryReadCommandComplete(ReadOnlySpan<byte> payload, out string commandTag)
    {
        var reader = new PayloadReader(payload);
        return reader.TryReadCString(out commandTag) && reader.Remaining == 0;
    }

    public static bool TryReadNegotiateProtocolVersion(
        ReadOnlySpan<byte> payload, out int newestMinorVersion, [NotNullWhen(true)] out string[]? unrecognizedOptions)
    {
        var reader = new PayloadReader(payload);
        unrecognizedOptions = null;
        if (!reader.TryReadInt32(out newestMinorVersion) || !reader.TryReadInt32(out var count) || count < 0 || count > payload.Length)
        {
            return false;
        }

        var result = new string[count];
        for (var i = 0; i < result.Length; i++)
        {
            if (!reader.TryReadCString(out result[i]))
            {
                return false;
            }
        }

        unrecognizedOptions = result;
        return reader.Remaining == 0;
    }
}
