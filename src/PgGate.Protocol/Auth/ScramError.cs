namespace PgGate.Protocol.Auth;

/// <summary>Why a SCRAM step failed.</summary>
public enum ScramError : byte
{
    None,

    /// <summary>A message does not follow RFC 5802's grammar.</summary>
    MalformedMessage,

    /// <summary>The client requires channel binding (SCRAM-SHA-256-PLUS), which PgGate does not offer.</summary>
    ChannelBindingNotSupported,

    /// <summary>The peer used a mandatory extension ("m=") or an authorization identity ("a="), which PostgreSQL refuses too.</summary>
    UnsupportedExtension,

    /// <summary>The nonce does not continue the one exchanged earlier.</summary>
    NonceMismatch,

    /// <summary>The client's proof is wrong: wrong password (SQLSTATE 28P01).</summary>
    InvalidProof,

    /// <summary>The server's signature is wrong: it does not know the password's keys.</summary>
    InvalidServerSignature,

    /// <summary>The server answered "e=..." in its final message.</summary>
    ServerError,

    /// <summary>The salt or iteration count the server sent differ from the ones the supplied keys were derived with.</summary>
    KeysDoNotMatchServer,

    /// <summary>A method was called out of order.</summary>
    InvalidState,
}
