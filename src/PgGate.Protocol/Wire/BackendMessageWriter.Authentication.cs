using System.Buffers;
using System.Buffers.Binary;

namespace PgGate.Protocol;

public static partial class BackendMessageWriter
{
    public static void WriteAuthenticationOk(IBufferWriter<byte> writer) =>
        WireEncoding.WriteInt32Message(writer, BackendMessageCode.Authentication, (int)AuthenticationRequestType.Ok);

    public static void WriteAuthenticationCleartextPassword(IBufferWriter<byte> writer) =>
        WireEncoding.WriteInt32Message(writer, BackendMessageCode.Authentication, (int)AuthenticationRequestType.CleartextPassword);

    /// <summary>AuthenticationMD5Password with the 4-byte salt the client must hash with.</summary>
    public static void WriteAuthenticationMd5Password(IBufferWriter<byte> writer, ReadOnlySpan<byte> salt)
    {
        if (salt.Length != 4)
        {
            throw new ArgumentException($"An MD5 salt is 4 bytes, got {salt.Length}.", nameof(salt));
        }

        WriteAuthentication(writer, AuthenticationRequestType.Md5Password, salt);
    }

    /// <summary>AuthenticationSASL listing the mechanisms offered, in order of preference.</summary>
    public static void WriteAuthenticationSasl(IBufferWriter<byte> writer, ReadOnlySpan<string> mechanisms)
    {
        var payloadLength = 4 + 1;
        foreach (var mechanism in mechanisms)
        {
            payloadLength += WireEncoding.CStringLength(mechanism, nameof(mechanisms));
        }

        var span = WireEncoding.BeginMessage(writer, BackendMessageCode.Authentication, payloadLength);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(5), (int)AuthenticationRequestType.Sasl);
        var position = 9;
        foreach (var mechanism in mechanisms)
        {
            position += WireEncoding.WriteCString(span.Slice(position), mechanism);
        }

        span[position++] = 0;
        writer.Advance(position);
    }

    /// <summary>AuthenticationSASLContinue carrying the server-first-message.</summary>
    public static void WriteAuthenticationSaslContinue(IBufferWriter<byte> writer, ReadOnlySpan<byte> data) =>
        WriteAuthentication(writer, AuthenticationRequestType.SaslContinue, data);

    /// <summary>AuthenticationSASLFinal carrying the server-final-message; AuthenticationOk must follow.</summary>
    public static void WriteAuthenticationSaslFinal(IBufferWriter<byte> writer, ReadOnlySpan<byte> data) =>
        WriteAuthentication(writer, AuthenticationRequestType.SaslFinal, data);

    private static void WriteAuthentication(IBufferWriter<byte> writer, AuthenticationRequestType type, ReadOnlySpan<byte> data)
    {
        var span = WireEncoding.BeginMessage(writer, BackendMessageCode.Authentication, 4 + data.Length);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(5), (int)type);
        data.CopyTo(span.Slice(9));
        writer.Advance(9 + data.Length);
    }
}
