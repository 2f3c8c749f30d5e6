using System.Net;

namespace PgGate.Cluster.PatroniApi;

/// <summary>Patroni's REST API refused a request or could not be reached. The message quotes Patroni's own text.</summary>
public sealed class PatroniApiException : Exception
{
    public PatroniApiException(string message, HttpStatusCode? statusCode = null, string? patroniMessage = null, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        PatroniMessage = patroniMessage;
    }

    /// <summary>The HTTP status Patroni answered with; null when it could not be reached.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Patroni's own text (e.g. <c>candidate name does not match with sync_standby</c>), when it sent one.</summary>
    public string? PatroniMessage { get; }
}
