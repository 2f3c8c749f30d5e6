namespace PgGate.Protocol;

/// <summary>Outcome of <see cref="StartupPacketParser"/>; every value after <see cref="NeedMoreData"/> is an error.</summary>
public enum StartupParseStatus : byte
{
    Ok,

    /// <summary>The buffer holds less than the packet's length; read more and try again.</summary>
    NeedMoreData,

    /// <summary>The length field is below 8, too short for a length and a version.</summary>
    LengthTooSmall,

    /// <summary>The length field exceeds the limit (PostgreSQL's 10000 bytes by default).</summary>
    LengthTooLarge,

    /// <summary>An SSLRequest/GSSENCRequest that is not 8 bytes, or a CancelRequest whose key is not 4..256 bytes.</summary>
    InvalidRequestLength,

    /// <summary>A parameter name or value is not NUL-terminated, or the list does not end with exactly one NUL.</summary>
    MissingTerminator,

    /// <summary>A parameter name is followed by the end of the packet instead of a value.</summary>
    ParameterWithoutValue,

    /// <summary>A parameter name or value is not valid UTF-8.</summary>
    InvalidUtf8,

    /// <summary>The major protocol version is not 3 (or the special code is unknown).</summary>
    UnsupportedProtocolVersion,

    /// <summary>The StartupMessage has no "user" parameter, or an empty one.</summary>
    MissingUser,
}
