namespace PgGate.Protocol;

/// <summary>The five bytes in front of every regular message: a type code and an Int32 length that counts itself.</summary>
public readonly record struct MessageHeader(byte Code, int Length)
{
    /// <summary>Bytes after the length field.</summary>
    public int PayloadLength => Length - 4;

    /// <summary>Bytes of the whole message on the wire, code byte included.</summary>
    public long FrameLength => (long)Length + 1;
}
