using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace PgGate.Protocol;

/// <summary>Low-level encoding shared by the message writers: C strings, big-endian integers, message headers.</summary>
internal static class WireEncoding
{
    /// <summary>Bytes a C string takes on the wire, terminator included. A NUL inside would cut the string short and
    /// desynchronise the peer, so it is refused here, where the mistake is made.</summary>
    internal static int CStringLength(string value, string paramName)
    {
        if (value.AsSpan().Contains('\0'))
        {
            throw new ArgumentException("A protocol string cannot contain a NUL character.", paramName);
        }

        return Encoding.UTF8.GetByteCount(value) + 1;
    }

    internal static int WriteCString(Span<byte> destination, string value)
    {
        var count = Encoding.UTF8.GetBytes(value, destination);
        destination[count] = 0;
        return count + 1;
    }

    /// <summary>Gets room for a whole message and writes its header; the caller fills the payload from offset 5.</summary>
    internal static Span<byte> BeginMessage(IBufferWriter<byte> writer, byte code, int payloadLength)
    {
        if (payloadLength > int.MaxValue - ProtocolConstants.MessageHeaderLength)
        {
            throw new ArgumentException("The message would exceed the protocol's 2 GiB length limit.", nameof(payloadLength));
        }

        var span = writer.GetSpan(ProtocolConstants.MessageHeaderLength + payloadLength);
        span[0] = code;
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(1), payloadLength + 4);
        return span;
    }

    /// <summary>Writes a message whose payload is one Int32.</summary>
    internal static void WriteInt32Message(IBufferWriter<byte> writer, byte code, int value)
    {
        var span = BeginMessage(writer, code, 4);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(5), value);
        writer.Advance(9);
    }

    /// <summary>Writes a message with an empty payload.</summary>
    internal static void WriteEmptyMessage(IBufferWriter<byte> writer, byte code)
    {
        BeginMessage(writer, code, 0);
        writer.Advance(5);
    }
}
