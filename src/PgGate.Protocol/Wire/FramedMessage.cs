using System.Buffers;

namespace PgGate.Protocol;

/// <summary>One regular message found in a buffer, without copying: its header, its payload slice and where it ends.</summary>
public readonly struct FramedMessage
{
    public FramedMessage(MessageHeader header, ReadOnlySequence<byte> payload, SequencePosition end)
    {
        Header = header;
        Payload = payload;
        End = end;
    }

    public MessageHeader Header { get; }

    public byte Code => Header.Code;

    /// <summary>The message's length field (counts itself, not the code byte).</summary>
    public int Length => Header.Length;

    /// <summary>The bytes after the length field; a slice of the caller's buffer, valid as long as that buffer is.</summary>
    public ReadOnlySequence<byte> Payload { get; }

    /// <summary>Position just past the message in the buffer it was read from (what to pass to AdvanceTo).</summary>
    public SequencePosition End { get; }
}
