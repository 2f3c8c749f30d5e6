namespace PgGate.Protocol.Auth;

/// <summary>The outcome of one SCRAM step: the message to send next, or why the exchange failed.</summary>
public readonly struct ScramStepResult
{
    private ScramStepResult(ScramError error, string? errorMessage, byte[]? message)
    {
        Error = error;
        ErrorMessage = errorMessage;
        Message = message;
    }

    public ScramError Error { get; }

    public string? ErrorMessage { get; }

    /// <summary>The next SCRAM message to send (server-first, client-final or server-final); null on failure.</summary>
    public byte[]? Message { get; }

    public bool IsSuccess => Error == ScramError.None;

    /// <summary>The SQLSTATE a server reports for this failure: 28P01 for a wrong password, 08P01 for the rest.</summary>
    public string SqlState => Error == ScramError.InvalidProof ? Protocol.SqlState.InvalidPassword : Protocol.SqlState.ProtocolViolation;

    internal static ScramStepResult Success(byte[]? message) => new(ScramError.None, null, message);

    internal static ScramStepResult Failure(ScramError error, string message) => new(error, message, null);
}
