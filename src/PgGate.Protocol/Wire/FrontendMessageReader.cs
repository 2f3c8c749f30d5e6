using System.Diagnostics.CodeAnalysis;

namespace PgGate.Protocol;

/// <summary>
/// Decodes the payloads of the client messages a server side must understand: authentication responses, Query,
/// and the statement names of the extended protocol. Returns false on a malformed payload.
/// </summary>
public static class FrontendMessageReader
{
    /// <summary>PasswordMessage: a cleartext password or an "md5..." response.</summary>
    public static bool TryReadPasswordMessage(ReadOnlySpan<byte> payload, out string password)
    {
        var reader = new PayloadReader(payload);
        return reader.TryReadCString(out password) && reader.Remaining == 0;
    }

    /// <summary>SASLInitialResponse: the chosen mechanism and its initial data (empty when the length is -1).</summary>
    public static bool TryReadSaslInitialResponse(ReadOnlySpan<byte> payload, out string mechanism, out ReadOnlySpan<byte> data)
    {
        var reader = new PayloadReader(payload);
        data = default;
        if (!reader.TryReadCString(out mechanism) || !reader.TryReadInt32(out var length))
        {
            return false;
        }

        if (length == -1)
        {
            return reader.Remaining == 0;
        }

        return reader.TryReadBytes(length, out data) && reader.Remaining == 0;
    }

    public static bool TryReadQuery(ReadOnlySpan<byte> payload, out string sql)
    {
        var reader = new PayloadReader(payload);
        return reader.TryReadCString(out sql) && reader.Remaining == 0;
    }

    /// <summary>Parse: statement name ("" is unnamed), query text and declared parameter type OIDs (0 = unspecified).</summary>
    public static bool TryReadParse(
        ReadOnlySpan<byte> payload, out string statementName, out string query, [NotNullWhen(true)] out uint[]? parameterTypeOids)
    {
        var reader = new PayloadReader(payload);
        query = string.Empty;
        parameterTypeOids = null;
        if (!reader.TryReadCString(out statementName) || !reader.TryReadCString(out query) || !reader.TryReadInt16(out var count))
        {
            return false;
        }

        // The count is unsigned on the wire since PostgreSQL 14 accepts up to 65535 parameters.
        var oids = new uint[(ushort)count];
        for (var i = 0; i < oids.Length; i++)
        {
            if (!reader.TryReadInt32(out var oid))
            {
                return false;
            }

            oids[i] = (uint)oid;
        }

        parameterTypeOids = oids;
        return reader.Remaining == 0;
    }

    /// <summary>The portal and statement names at the start of a Bind (the rest can be forwarded untouched).</summary>
    public static bool TryReadBindNames(ReadOnlySpan<byte> payload, out string portalName, out string statementName)
    {
        var reader = new PayloadReader(payload);
        statementName = string.Empty;
        return reader.TryReadCString(out portalName) && reader.TryReadCString(out statementName);
    }

    /// <summary>Describe or Close: the target ('S' statement or 'P' portal) and its name.</summary>
    public static bool TryReadTarget(ReadOnlySpan<byte> payload, out byte target, out string name)
    {
        var reader = new PayloadReader(payload);
        name = string.Empty;
        return reader.TryReadByte(out target)
            && (target == FrontendMessageCode.TargetStatement || target == FrontendMessageCode.TargetPortal)
            && reader.TryReadCString(out name)
            && reader.Remaining == 0;
    }

    public static bool TryReadExecute(ReadOnlySpan<byte> payload, out string portalName, out int maxRows)
    {
        var reader = new PayloadReader(payload);
        maxRows = 0;
        return reader.TryReadCString(out portalName) && reader.TryReadInt32(out maxRows) && reader.Remaining == 0;
    }
}
