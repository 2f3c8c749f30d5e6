namespace PgGate.Protocol.Client;

/// <summary>Base of the errors <see cref="PgClient"/> raises (apart from cancellation and connect timeouts).</summary>
public abstract class PgException : Exception
{
    protected PgException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
