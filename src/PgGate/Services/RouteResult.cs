namespace PgGate.Services;

/// <summary>Why a client could not be given a server; becomes a PostgreSQL ErrorResponse.</summary>
public sealed record Refusal(string SqlState, string Message, string? Detail = null, string? Hint = null);

/// <summary>A server slot for one client, or why there is none.</summary>
public readonly record struct RouteResult(ServerState? Server, Refusal? Refusal)
{
    public static RouteResult To(ServerState server) => new(server, null);
    public static RouteResult Refused(Refusal refusal) => new(null, refusal);
}
