using System.Buffers;
using System.Buffers.Binary;
using PgGate.Protocol;

namespace PgGate.Tests.Protocol;

public class MessageFramingTests
{
    private static byte[] Message(byte code, byte[] payload)
    {
        var bytes = new byte[5 + payload.Length];
        bytes[0] = code;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(1), 4 + payload.Length);
        payload.CopyTo(bytes, 5);
        return bytes;
    }

    private static readonly byte[] Query = Message((byte)'Q', "select 1\0"u8.ToArray());
    private static readonly byte[] Sync = Message((byte)'S', []);

    [Fact]
    public void Reads_consecutive_messages_from_a_contiguous_buffer()
    {
        byte[] buffer = [.. Query, .. Sync];

        Assert.Equal(MessageReadStatus.Ok, MessageFraming.TryReadMessage(buffer, 1000, out var first, out var payload));
        Assert.Equal(new MessageHeader((byte)'Q', 13), first);
        Assert.Equal("select 1\0"u8.ToArray(), payload.ToArray());
        Assert.Equal(14, first.FrameLength);

        var rest = buffer.AsSpan((int)first.FrameLength);
        Assert.Equal(MessageReadStatus.Ok, MessageFraming.TryReadMessage(rest, 1000, out var second, out var empty));
        Assert.Equal(new MessageHeader((byte)'S', 4), second);
        Assert.True(empty.IsEmpty);
    }

    [Fact]
    public void Every_split_of_two_messages_over_segments_yields_the_same_messages()
    {
        byte[] stream = [.. Query, .. Sync];
        for (var cut1 = 1; cut1 < stream.Length; cut1++)
        {
            for (var cut2 = cut1 + 1; cut2 < stream.Length; cut2++)
            {
                var buffer = SegmentedSequence.Split(stream, cut1, cut2);

                Assert.Equal(MessageReadStatus.Ok, MessageFraming.TryReadMessage(buffer, 1000, out var first));
                Assert.Equal((byte)'Q', first.Code);
                Assert.Equal("select 1\0"u8.ToArray(), first.Payload.ToArray());

                var rest = buffer.Slice(first.End);
                Assert.Equal(MessageReadStatus.Ok, MessageFraming.TryReadMessage(rest, 1000, out var second));
                Assert.Equal((byte)'S', second.Code);
                Assert.Equal(0, second.Payload.Length);
                Assert.Equal(0, rest.Slice(second.End).Length);
            }
        }
    }

    [Fact]
    public void A_header_split_byte_by_byte_is_read()
    {
        var buffer = SegmentedSequence.ByteByByte(Query);

        Assert.Equal(MessageReadStatus.Ok, MessageFraming.TryReadMessageHeader(buffer, 1000, out var header));
        Assert.Equal(new MessageHeader((byte)'Q', 13), header);
        Assert.Equal(MessageReadStatus.Ok, MessageFraming.TryReadMessage(buffer, 1000, out var message));
        Assert.Equal("select 1\0"u8.ToArray(), message.Payload.ToArray());
    }

    [Fact]
    public void An_incomplete_message_needs_more_data_at_every_cut()
    {
        for (var cut = 0; cut < Query.Length; cut++)
        {
            Assert.Equal(MessageReadStatus.NeedMoreData, MessageFraming.TryReadMessage(Query.AsSpan(0, cut), 1000, out _, out _));
            var sequence = cut > 1 ? SegmentedSequence.Split(Query[..cut], 1) : new ReadOnlySequence<byte>(Query[..cut]);
            Assert.Equal(MessageReadStatus.NeedMoreData, MessageFraming.TryReadMessage(sequence, 1000, out _));
        }
    }

    [Fact]
    public void The_header_alone_is_known_before_the_payload_arrives()
    {
        Assert.Equal(MessageReadStatus.Ok, MessageFraming.TryReadMessageHeader(Query.AsSpan(0, 5), 1000, out var header));
        Assert.Equal(9, header.PayloadLength);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(-5)]
    public void A_length_below_4_is_an_error(int length)
    {
        var bytes = new byte[5];
        bytes[0] = (byte)'Q';
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(1), length);

        Assert.Equal(MessageReadStatus.LengthTooSmall, MessageFraming.TryReadMessage(bytes, 1000, out _, out _));
        Assert.Equal(MessageReadStatus.LengthTooSmall, MessageFraming.TryReadMessage(SegmentedSequence.Split(bytes, 2), 1000, out _));
    }

    [Fact]
    public void A_length_above_the_limit_is_an_error_before_the_payload_arrives()
    {
        var bytes = new byte[5];
        bytes[0] = (byte)'D';
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(1), 1001);

        Assert.Equal(MessageReadStatus.LengthTooLarge, MessageFraming.TryReadMessageHeader(bytes, 1000, out var header));
        Assert.Equal(1001, header.Length);
        Assert.Equal(MessageReadStatus.Ok, MessageFraming.TryReadMessageHeader(bytes, 1001, out _));
    }

    [Fact]
    public void The_default_limit_is_PostgreSQLs_MaxAllocSize()
    {
        var bytes = new byte[5];
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(1), int.MaxValue);

        Assert.Equal(MessageReadStatus.LengthTooLarge,
            MessageFraming.TryReadMessageHeader(bytes, ProtocolConstants.DefaultMaxMessageLength, out _));
        Assert.Equal(0x3FFF_FFFF, ProtocolConstants.DefaultMaxMessageLength);
    }

    [Fact]
    public void A_payload_spanning_segments_is_a_slice_of_the_input_not_a_copy()
    {
        var stream = Message((byte)'d', new byte[100]);
        var buffer = SegmentedSequence.Split(stream, 3, 50, 90);

        Assert.Equal(MessageReadStatus.Ok, MessageFraming.TryReadMessage(buffer, 1000, out var message));
        Assert.False(message.Payload.IsSingleSegment);
        Assert.Equal(100, message.Payload.Length);
        Assert.Equal(buffer.End, message.End);
    }
}
