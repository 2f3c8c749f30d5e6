namespace PgGate.Cluster.PatroniApi;

/// <summary>What Patroni answered to <c>POST /switchover</c>.</summary>
/// <param name="Scheduled">True for a switchover scheduled for later (HTTP 202); false when Patroni already carried it out.</param>
/// <param name="Message">Patroni's text, e.g. <c>Successfully switched over to "pg-test-2"</c>.</param>
/// <param name="AskedMember">The member whose REST API took the request.</param>
public sealed record PatroniSwitchoverResult(bool Scheduled, string Message, string AskedMember);
