namespace PgGate.Pooling.Auth;

/// <summary>The authentication method of an HBA line.</summary>
public enum HbaMethod : byte
{
    Trust,
    Reject,
    Md5,
    Password,
    ScramSha256,

    /// <summary>Unix-socket peer authentication: never matches TCP clients (PgGate has no Unix-socket listener).</summary>
    Peer,

    /// <summary>TLS client certificates: not supported yet; such a line refuses the client with a message saying so.</summary>
    Cert,
}
