using System.Net.Sockets;

namespace PgGate.Services;

/// <summary>Tells a client it cannot be served, in PostgreSQL's words (an ErrorResponse with a SQLSTATE).</summary>
public static class ClientRefusal
{
    public static Task SendAsync(Socket client, Refusal refusal, CancellationToken cancellationToken)
    {
        // Wired to the protocol library's startup parser and ErrorResponse writer once it lands.
        _ = refusal;
        _ = cancellationToken;
        client.Dispose();
        return Task.CompletedTask;
    }
}
