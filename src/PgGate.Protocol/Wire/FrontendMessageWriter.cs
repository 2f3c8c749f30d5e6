using System.Buffers;
using System.Buffers.Binary;

namespace PgGate.Protocol;

/// <summary>
/// Writes client-to-server messages into an <see cref="IBufferWriter{T}"/>, one span per message, no allocation.
/// Strings are encoded as UTF-8 and may not contain NUL (an <see cref="ArgumentException"/> says so).
/// </summary>
public static partial class FrontendMessageWriter
{
    /// <summary>StartupMessage: the protocol version, then name/value pairs ("user" is required by servers).</summary>
    public static void WriteStartupMessage(
        IBufferWriter<byte> writer,
        IReadOnlyList<KeyValuePair<string, string>> parameters,
        int protocolVersion = ProtocolConstants.ProtocolVersion3)
    {
        var length = 4 + 4 + 1;
        for (var i = 0; i < parameters.Count; i++)
        {
            length += WireEncoding.CStringLength(parameters[i].Key, nameof(parameters))
                + WireEncoding.CStringLength(parameters[i].Value, nameof(parameters));
        }

        var span = writer.GetSpan(length);
        BinaryPrimitives.WriteInt32BigEndian(span, length);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(4), protocolVersion);
        var position = 8;
        for (var i = 0; i < parameters.Count; i++)
        {
            position += WireEncoding.WriteCString(span.Slice(position), parameters[i].Key);
            position += WireEncoding.WriteCString(span.Slice(position), parameters[i].Value);
        }

        span[position++] = 0;
        writer.Advance(position);
    }

    public static void WriteSslRequest(IBufferWriter<byte> writer) => WriteSpecialRequest(writer, ProtocolConstants.SslRequestCode);

    public static void WriteGssEncRequest(IBufferWriter<byte> writer) => WriteSpecialRequest(writer, ProtocolConstants.GssEncRequestCode);

    /// <summary>CancelRequest for a backend; the key is the BackendKeyData key as received (4 bytes in protocol 3.0).</summary>
    public static void WriteCancelRequest(IBufferWriter<byte> writer, int processId, ReadOnlySpan<byte> secretKey)
    {
        if (secretKey.Length < ProtocolConstants.MinCancelKeyLength || secretKey.Length > ProtocolConstants.MaxCancelKeyLength)
        {
            throw new ArgumentException(
                $"A cancel key must be {ProtocolConstants.MinCancelKeyLength} to {ProtocolConstants.MaxCancelKeyLength} bytes, got {secretKey.Length}.",
                nameof(secretKey));
        }

        var length = 12 + secretKey.Length;
        var span = writer.GetSpan(length);
        BinaryPrimitives.WriteInt32BigEndian(span, length);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(4), ProtocolConstants.CancelRequestCode);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(8), processId);
        secretKey.CopyTo(span.Slice(12));
        writer.Advance(length);
    }

    public static void WriteQuery(IBufferWriter<byte> writer, string sql) =>
        WriteCStringMessage(writer, FrontendMessageCode.Query, sql, nameof(sql));

    public static void WriteTerminate(IBufferWriter<byte> writer) =>
        WireEncoding.WriteEmptyMessage(writer, FrontendMessageCode.Terminate);

    public static void WriteSync(IBufferWriter<byte> writer) =>
        WireEncoding.WriteEmptyMessage(writer, FrontendMessageCode.Sync);

    public static void WriteFlush(IBufferWriter<byte> writer) =>
        WireEncoding.WriteEmptyMessage(writer, FrontendMessageCode.Flush);

    /// <summary>CopyFail: aborts a COPY FROM STDIN with the given reason.</summary>
    public static void WriteCopyFail(IBufferWriter<byte> writer, string reason) =>
        WriteCStringMessage(writer, FrontendMessageCode.CopyFail, reason, nameof(reason));

    /// <summary>PasswordMessage with a cleartext password or an "md5..." response.</summary>
    public static void WritePasswordMessage(IBufferWriter<byte> writer, string password) =>
        WriteCStringMessage(writer, FrontendMessageCode.Password, password, nameof(password));

    /// <summary>SASLInitialResponse: the chosen mechanism and the client-first-message.</summary>
    public static void WriteSaslInitialResponse(IBufferWriter<byte> writer, string mechanism, ReadOnlySpan<byte> data)
    {
        var mechanismLength = WireEncoding.CStringLength(mechanism, nameof(mechanism));
        var span = WireEncoding.BeginMessage(writer, FrontendMessageCode.Password, mechanismLength + 4 + data.Length);
        var position = 5 + WireEncoding.WriteCString(span.Slice(5), mechanism);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(position), data.Length);
        data.CopyTo(span.Slice(position + 4));
        writer.Advance(position + 4 + data.Length);
    }

    /// <summary>SASLResponse: the client-final-message.</summary>
    public static void WriteSaslResponse(IBufferWriter<byte> writer, ReadOnlySpan<byte> data)
    {
        var span = WireEncoding.BeginMessage(writer, FrontendMessageCode.Password, data.Length);
        data.CopyTo(span.Slice(5));
        writer.Advance(5 + data.Length);
    }

    private static void WriteSpecialRequest(IBufferWriter<byte> writer, int code)
    {
        var span = writer.GetSpan(8);
        BinaryPrimitives.WriteInt32BigEndian(span, 8);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(4), code);
        writer.Advance(8);
    }

    private static void WriteCStringMessage(IBufferWriter<byte> writer, byte code, string value, string paramName)
    {
        var valueLength = WireEncoding.CStringLength(value, paramName);
        var span = WireEncoding.BeginMessage(writer, code, valueLength);
        WireEncoding.WriteCString(span.Slice(5), value);
        writer.Advance(5 + valueLength);
    }
}
