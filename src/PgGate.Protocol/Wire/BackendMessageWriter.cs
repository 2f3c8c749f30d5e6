using System.Buffers;
using System.Buffers.Binary;

namespace PgGate.Protocol;

/// <summary>
/// Writes server-to-client messages into an <see cref="IBufferWriter{T}"/>. Each method sizes the message first,
/// asks the writer for one span and fills it, so nothing is allocated per message.
/// Strings are encoded as UTF-8 and may not contain NUL (an <see cref="ArgumentException"/> says so).
/// </summary>
public static partial class BackendMessageWriter
{
    public static void WriteParameterStatus(IBufferWriter<byte> writer, string name, string value)
    {
        var nameLength = WireEncoding.CStringLength(name, nameof(name));
        var valueLength = WireEncoding.CStringLength(value, nameof(value));
        var span = WireEncoding.BeginMessage(writer, BackendMessageCode.ParameterStatus, nameLength + valueLength);
        var position = 5;
        position += WireEncoding.WriteCString(span.Slice(position), name);
        position += WireEncoding.WriteCString(span.Slice(position), value);
        writer.Advance(position);
    }

    /// <summary>BackendKeyData; protocol 3.0 clients expect exactly 4 key bytes, 3.2 clients accept 4 to 256.</summary>
    public static void WriteBackendKeyData(IBufferWriter<byte> writer, int processId, ReadOnlySpan<byte> secretKey)
    {
        if (secretKey.Length < ProtocolConstants.MinCancelKeyLength || secretKey.Length > ProtocolConstants.MaxCancelKeyLength)
        {
            throw new ArgumentException(
                $"A cancel key must be {ProtocolConstants.MinCancelKeyLength} to {ProtocolConstants.MaxCancelKeyLength} bytes, got {secretKey.Length}.",
                nameof(secretKey));
        }

        var span = WireEncoding.BeginMessage(writer, BackendMessageCode.BackendKeyData, 4 + secretKey.Length);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(5), processId);
        secretKey.CopyTo(span.Slice(9));
        writer.Advance(9 + secretKey.Length);
    }

    public static void WriteReadyForQuery(IBufferWriter<byte> writer, TransactionStatus status)
    {
        var span = WireEncoding.BeginMessage(writer, BackendMessageCode.ReadyForQuery, 1);
        span[5] = (byte)status;
        writer.Advance(6);
    }

    public static void WriteCommandComplete(IBufferWriter<byte> writer, string commandTag)
    {
        var tagLength = WireEncoding.CStringLength(commandTag, nameof(commandTag));
        var span = WireEncoding.BeginMessage(writer, BackendMessageCode.CommandComplete, tagLength);
        WireEncoding.WriteCString(span.Slice(5), commandTag);
        writer.Advance(5 + tagLength);
    }

    public static void WriteEmptyQueryResponse(IBufferWriter<byte> writer) =>
        WireEncoding.WriteEmptyMessage(writer, BackendMessageCode.EmptyQueryResponse);

    public static void WriteParseComplete(IBufferWriter<byte> writer) =>
        WireEncoding.WriteEmptyMessage(writer, BackendMessageCode.ParseComplete);

    public static void WriteBindComplete(IBufferWriter<byte> writer) =>
        WireEncoding.WriteEmptyMessage(writer, BackendMessageCode.BindComplete);

    public static void WriteCloseComplete(IBufferWriter<byte> writer) =>
        WireEncoding.WriteEmptyMessage(writer, BackendMessageCode.CloseComplete);

    public static void WriteNoData(IBufferWriter<byte> writer) =>
        WireEncoding.WriteEmptyMessage(writer, BackendMessageCode.NoData);

    public static void WritePortalSuspended(IBufferWriter<byte> writer) =>
        WireEncoding.WriteEmptyMessage(writer, BackendMessageCode.PortalSuspended);

    /// <summary>
    /// NegotiateProtocolVersion: the newest minor version we support for the requested major version, and the
    /// <c>_pq_.*</c> options we did not recognise. Sent before authentication when the client asked for more.
    /// </summary>
    public static void WriteNegotiateProtocolVersion(
        IBufferWriter<byte> writer, int newestMinorVersion, IReadOnlyList<string> unrecognizedOptions)
    {
        var payloadLength = 8;
        for (var i = 0; i < unrecognizedOptions.Count; i++)
        {
            payloadLength += WireEncoding.CStringLength(unrecognizedOptions[i], nameof(unrecognizedOptions));
        }

        var span = WireEncoding.BeginMessage(writer, BackendMessageCode.NegotiateProtocolVersion, payloadLength);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(5), newestMinorVersion);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(9), unrecognizedOptions.Count);
        var position = 13;
        for (var i = 0; i < unrecognizedOptions.Count; i++)
        {
            position += WireEncoding.WriteCString(span.Slice(position), unrecognizedOptions[i]);
        }

        writer.Advance(position);
    }

    /// <summary>The single byte answering SSLRequest: 'S' to start TLS, 'N' to go on in plain text.</summary>
    public static void WriteSslResponse(IBufferWriter<byte> writer, bool accept)
    {
        writer.GetSpan(1)[0] = accept ? BackendMessageCode.SslAccepted : BackendMessageCode.EncryptionRefused;
        writer.Advance(1);
    }

    /// <summary>The single byte answering GSSENCRequest: 'G' to start GSSAPI encryption, 'N' to go on without it.</summary>
    public static void WriteGssEncResponse(IBufferWriter<byte> writer, bool accept)
    {
        writer.GetSpan(1)[0] = accept ? BackendMessageCode.GssEncAccepted : BackendMessageCode.EncryptionRefused;
        writer.Advance(1);
    }
}
