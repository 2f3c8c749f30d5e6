namespace PgGate.Protocol.Client;

/// <summary>The server sent something the protocol does not allow at that point; the connection is unusable.</summary>
public sealed class PgProtocolException : PgException
{
    public PgProtocolException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
