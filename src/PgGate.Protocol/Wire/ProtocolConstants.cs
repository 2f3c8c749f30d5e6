namespace PgGate.Protocol;

/// <summary>Numbers fixed by the PostgreSQL frontend/backend protocol and by PostgreSQL's own limits.</summary>
public static class ProtocolConstants
{
    /// <summary>Protocol 3.0 as sent in a StartupMessage: major 3 in the high 16 bits, minor 0 in the low 16 bits.</summary>
    public const int ProtocolVersion3 = 3 << 16;

    /// <summary>The only major protocol version PostgreSQL (since 14) and PgGate speak.</summary>
    public const int SupportedMajorVersion = 3;

    /// <summary>The newest minor version PgGate implements; 3.2 (PostgreSQL 18) clients are negotiated down to it.</summary>
    public const int LatestSupportedMinorVersion = 0;

    /// <summary>"Protocol version" 1234.5679: the client asks to switch to TLS.</summary>
    public const int SslRequestCode = (1234 << 16) | 5679;

    /// <summary>"Protocol version" 1234.5680: the client asks for GSSAPI encryption.</summary>
    public const int GssEncRequestCode = (1234 << 16) | 5680;

    /// <summary>"Protocol version" 1234.5678: the client asks to cancel a query running on another connection.</summary>
    public const int CancelRequestCode = (1234 << 16) | 5678;

    /// <summary>PostgreSQL's MAX_STARTUP_PACKET_LENGTH: longer startup packets are refused before they are read.</summary>
    public const int MaxStartupPacketLength = 10000;

    /// <summary>
    /// Default ceiling for a regular message's length field, PostgreSQL's MaxAllocSize (1 GiB - 1):
    /// nothing larger can be a legitimate message, so such a length means a corrupt or hostile stream.
    /// </summary>
    public const int DefaultMaxMessageLength = 0x3FFF_FFFF;

    /// <summary>Shortest cancel key allowed by protocol 3.2 and the only length protocol 3.0 uses.</summary>
    public const int MinCancelKeyLength = 4;

    /// <summary>Longest cancel key allowed by protocol 3.2.</summary>
    public const int MaxCancelKeyLength = 256;

    /// <summary>Prefix of startup parameters that are protocol extensions rather than settings.</summary>
    public const string ProtocolOptionPrefix = "_pq_.";

    /// <summary>Size of a regular message header: one code byte and an Int32 length.</summary>
    public const int MessageHeaderLength = 5;

    public static int MajorVersion(int protocolVersion) => (int)((uint)protocolVersion >> 16);

    public static int MinorVersion(int protocolVersion) => protocolVersion & 0xFFFF;

    public static int MakeVersion(int major, int minor) => (major << 16) | (minor & 0xFFFF);
}
