using PgGate.Protocol;

namespace PgGate.Pooling.Sessions;

/// <summary>A server connection could not be opened or logged in; <see cref="Fields"/> holds the server's own error when it sent one.</summary>
internal sealed class ServerLoginException : Exception
{
    public ServerLoginException(string message, PgErrorFields? fields = null, Exception? inner = null)
        : base(message, inner)
    {
        Fields = fields;
    }

    public PgErrorFields? Fields { get; }

    /// <summary>The SQLSTATE to show the client: the server's, or 08006 when the server was not reachable.</summary>
    public string SqlState => Fields?.SqlState ?? Protocol.SqlState.ConnectionFailure;
}
