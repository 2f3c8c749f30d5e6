namespace PgGate.Sandbox;

/// <summary>
/// A sandbox cluster could not be built or driven. The message names the command or condition that failed,
/// quotes what PostgreSQL said, and says what to do about it.
/// </summary>
public sealed class SandboxException : Exception
{
    public SandboxException(string message)
        : base(message)
    {
    }

    public SandboxException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
