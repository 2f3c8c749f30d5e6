namespace PgGate.Protocol;

/// <summary>What the first, untyped packet of a connection asks for.</summary>
public enum StartupPacketKind : byte
{
    /// <summary>Not known (the packet was incomplete or invalid).</summary>
    None,

    /// <summary>A StartupMessage with protocol version and parameters.</summary>
    Startup,

    /// <summary>SSLRequest: answer 'S' and start TLS, or 'N' and wait for the real startup packet.</summary>
    SslRequest,

    /// <summary>GSSENCRequest: answer 'G' and start GSSAPI encryption, or 'N' and wait for the real startup packet.</summary>
    GssEncRequest,

    /// <summary>CancelRequest: cancel the query of another connection, then close without an answer.</summary>
    CancelRequest,
}
