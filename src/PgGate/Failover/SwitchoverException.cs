namespace PgGate.Failover;

/// <summary>A switchover step failed; the message says which, where, and what to do.</summary>
public sealed class SwitchoverException : Exception
{
    public SwitchoverException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
