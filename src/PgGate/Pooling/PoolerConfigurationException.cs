namespace PgGate.Pooling;

/// <summary>The pooler's settings or the files they name cannot be used; the message says which and why.</summary>
public sealed class PoolerConfigurationException : Exception
{
    public PoolerConfigurationException(string message)
        : base(message)
    {
    }

    public PoolerConfigurationException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
