namespace PgGate.Protocol;

/// <summary>Outcome of reading one regular message from a buffer.</summary>
public enum MessageReadStatus : byte
{
    /// <summary>A whole header (or message) was read.</summary>
    Ok,

    /// <summary>The buffer ends before the header (or message) does; read more and try again.</summary>
    NeedMoreData,

    /// <summary>The length field is below 4, which cannot even cover itself: the stream is corrupt.</summary>
    LengthTooSmall,

    /// <summary>The length field exceeds the caller's limit: refuse rather than buffer it.</summary>
    LengthTooLarge,
}
