namespace PgGate.Protocol.Client;

/// <summary>
/// The connection could not be made or was lost (refused, reset, closed by the server), or authentication could
/// not even be attempted (no password configured, unsupported method). The connection is unusable.
/// </summary>
public sealed class PgConnectionException : PgException
{
    public PgConnectionException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
