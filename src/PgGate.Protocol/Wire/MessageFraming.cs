using System.Buffers;
using System.Buffers.Binary;

namespace PgGate.Protocol;

/// <summary>
/// Finds regular message boundaries ('code' + Int32 length + payload) in received bytes. Nothing is copied
/// or allocated, so a relay can forward whole messages untouched; malformed lengths are results, not exceptions.
/// </summary>
public static class MessageFraming
{
    public static MessageReadStatus TryReadMessageHeader(ReadOnlySpan<byte> buffer, int maxLength, out MessageHeader header)
    {
        if (buffer.Length < ProtocolConstants.MessageHeaderLength)
        {
            header = default;
            return MessageReadStatus.NeedMoreData;
        }

        var length = BinaryPrimitives.ReadInt32BigEndian(buffer.Slice(1));
        header = new MessageHeader(buffer[0], length);
        return CheckLength(length, maxLength);
    }

    public static MessageReadStatus TryReadMessageHeader(in ReadOnlySequence<byte> buffer, int maxLength, out MessageHeader header)
    {
        var first = buffer.FirstSpan;
        if (first.Length >= ProtocolConstants.MessageHeaderLength)
        {
            return TryReadMessageHeader(first, maxLength, out header);
        }

        if (buffer.Length < ProtocolConstants.MessageHeaderLength)
        {
            header = default;
            return MessageReadStatus.NeedMoreData;
        }

        // The header straddles segments: copy its five bytes.
        Span<byte> scratch = stackalloc byte[ProtocolConstants.MessageHeaderLength];
        buffer.Slice(0, ProtocolConstants.MessageHeaderLength).CopyTo(scratch);
        return TryReadMessageHeader(scratch, maxLength, out header);
    }

    /// <summary>Reads one whole message from a contiguous buffer; <paramref name="payload"/> is a slice of it.</summary>
    public static MessageReadStatus TryReadMessage(
        ReadOnlySpan<byte> buffer, int maxLength, out MessageHeader header, out ReadOnlySpan<byte> payload)
    {
        var status = TryReadMessageHeader(buffer, maxLength, out header);
        if (status == MessageReadStatus.Ok)
        {
            if (buffer.Length - ProtocolConstants.MessageHeaderLength >= header.PayloadLength)
            {
                payload = buffer.Slice(ProtocolConstants.MessageHeaderLength, header.PayloadLength);
                return MessageReadStatus.Ok;
            }

            status = MessageReadStatus.NeedMoreData;
        }

        payload = default;
        return status;
    }

    /// <summary>Reads one whole message, which may span segments; the payload is a slice of <paramref name="buffer"/>.</summary>
    public static MessageReadStatus TryReadMessage(in ReadOnlySequence<byte> buffer, int maxLength, out FramedMessage message)
    {
        var status = TryReadMessageHeader(buffer, maxLength, out var header);
        if (status == MessageReadStatus.Ok)
        {
            if (buffer.Length - ProtocolConstants.MessageHeaderLength >= header.PayloadLength)
            {
                var payload = buffer.Slice(ProtocolConstants.MessageHeaderLength, header.PayloadLength);
                message = new FramedMessage(header, payload, payload.End);
                return MessageReadStatus.Ok;
            }

            status = MessageReadStatus.NeedMoreData;
        }

        message = default;
        return status;
    }

    private static MessageReadStatus CheckLength(int length, int maxLength)
    {
        if (length < 4)
        {
            return MessageReadStatus.LengthTooSmall;
        }

        return length > maxLength ? MessageReadStatus.LengthTooLarge : MessageReadStatus.Ok;
    }
}
