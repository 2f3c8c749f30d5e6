namespace PgGate.Pooling.Auth;

/// <summary>The first field of an HBA line.</summary>
public enum HbaConnectionType : byte
{
    /// <summary>Unix-socket connections; PgGate serves TCP only, so these lines never match.</summary>
    Local,
    Host,
    HostSsl,
    HostNoSsl,
}
