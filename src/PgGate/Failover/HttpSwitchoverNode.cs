using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace PgGate.Failover;

/// <summary>A PgGate node reached through its admin HTTP API (<c>/api/clusters/&lt;cluster&gt;/pause</c>, <c>/resume</c>, <c>/leader</c>).</summary>
public sealed class HttpSwitchoverNode : ISwitchoverNode
{
    private readonly HttpClient _http;
    private readonly Uri _base;
    private readonly System.Net.Http.Headers.AuthenticationHeaderValue? _authorization;

    /// <param name="authorization">Sent with every request: the admin API's credentials, when it requires them.</param>
    public HttpSwitchoverNode(HttpClient http, Uri baseAddress, System.Net.Http.Headers.AuthenticationHeaderValue? authorization = null)
    {
        _http = http;
        _base = baseAddress;
        _authorization = authorization;
    }

    public string Name => _base.Authority;

    public static HttpClient CreateClient() =>
        new(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(3) }) { Timeout = Timeout.InfiniteTimeSpan };

    public async Task<PauseOutcome> PauseAsync(string cluster, TimeSpan drainTimeout, TimeSpan holdLimit, string? fence, CancellationToken cancellationToken)
    {
        var body = new StringBuilder();
        body.Append(CultureInfo.InvariantCulture, $"{{\"drain_timeout_ms\":{(long)drainTimeout.TotalMilliseconds},\"hold_limit_ms\":{(long)holdLimit.TotalMilliseconds}");
        if (fence is not null)
            body.Append(",\"fence\":\"").Append(JsonEncodedText.Encode(fence).Value).Append('"');
        body.Append('}');
        using var doc = await SendAsync(HttpMethod.Post, $"/api/clusters/{Uri.EscapeDataString(cluster)}/pause", body.ToString(),
            drainTimeout + TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        return SwitchoverJson.ReadPause(doc.RootElement);
    }

    public async Task ResumeAsync(string cluster, CancellationToken cancellationToken)
    {
        using var _ = await SendAsync(HttpMethod.Post, $"/api/clusters/{Uri.EscapeDataString(cluster)}/resume", "{}", TimeSpan.FromSeconds(10),
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<string?> LeaderAsync(string cluster, CancellationToken cancellationToken)
    {
        using var doc = await SendAsync(HttpMethod.Get, $"/api/clusters/{Uri.EscapeDataString(cluster)}/leader", null, TimeSpan.FromSeconds(10),
            cancellationToken).ConfigureAwait(false);
        return doc.RootElement.TryGetProperty("leader", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString() : null;
    }

    public async Task<string> WaitForLeaderAsync(string cluster, string? expected, string? old, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var query = new StringBuilder($"/api/clusters/{Uri.EscapeDataString(cluster)}/leader?timeout_ms={(long)timeout.TotalMilliseconds}");
        if (expected is not null)
            query.Append("&expect=").Append(Uri.EscapeDataString(expected));
        if (old is not null)
            query.Append("&changed_from=").Append(Uri.EscapeDataString(old));
        using var doc = await SendAsync(HttpMethod.Get, query.ToString(), null, timeout + TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        if (doc.RootElement.TryGetProperty("leader", out var l) && l.ValueKind == JsonValueKind.String && l.GetString() is { } leader
            && (expected is null ? leader != old : leader == expected))
            return leader;
        throw new TimeoutException($"node {Name}: writes did not move to {expected ?? "a new leader"} within {timeout.TotalSeconds:0.#} s " +
            $"(its view says {(l.ValueKind == JsonValueKind.String ? l.GetString() : "no leader")})");
    }

    private async Task<JsonDocument> SendAsync(HttpMethod method, string path, string? body, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(_base, path));
        request.Headers.Authorization = _authorization;
        if (body is not null)
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        HttpResponseMessage response;
        string text;
        try
        {
            response = await _http.SendAsync(request, deadline.Token).ConfigureAwait(false);
            text = await response.Content.ReadAsStringAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SwitchoverException($"PgGate node {Name}: {method} {path} got no answer within {timeout.TotalSeconds:0.#} s", e);
        }
        catch (HttpRequestException e)
        {
            throw new SwitchoverException($"PgGate node {Name} cannot be reached ({(e.InnerException ?? e).Message}); " +
                "is `pggate run` up there with admin.listen on this address? (--nodes gives the admin addresses explicitly)", e);
        }
        using (response)
        {
            if (response.StatusCode != HttpStatusCode.OK)
            {
                var message = text;
                try
                {
                    using var err = JsonDocument.Parse(text);
                    if (err.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String)
                        message = e.GetString()!;
                }
                catch (JsonException)
                {
                    // Not ours: quote it as it is.
                }
                throw new SwitchoverException($"PgGate node {Name}: {method} {path} answered HTTP {(int)response.StatusCode}: {message.Trim()}");
            }
            return JsonDocument.Parse(text);
        }
    }
}
