using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using PgGate.Config;

namespace PgGate.Cluster.PatroniApi;

/// <summary>A member's Patroni REST API: its name and base address (<c>http://10.10.10.11:8008</c>).</summary>
public sealed record PatroniApiEndpoint(string Member, Uri BaseAddress);

/// <summary>
/// Patroni's REST API for what <c>patronictl</c> does: <c>GET /cluster</c> (members, roles, states, lag, timelines) and
/// <c>POST /switchover</c>. Reads go to the first member that answers; a switchover goes to the leader's own API first
/// (falling back to the others only when it cannot be reached, never after Patroni answered). Write endpoints need
/// Patroni's <c>restapi.authentication</c> credentials (Pigsty: <c>postgres</c> / <c>Patroni.API</c>), taken from
/// <see cref="PatroniCheckConfig"/>. Every failure quotes Patroni's own message and says what to do.
/// </summary>
public sealed class PatroniClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly PatroniCheckConfig _settings;
    private readonly TimeSpan _requestTimeout;

    /// <param name="switchoverTimeout">How long to wait for Patroni's answer to a switchover: Patroni polls the outcome
    /// for up to <c>2 × max(10, loop_wait)</c> seconds before it replies.</param>
    public PatroniClient(IReadOnlyList<PatroniApiEndpoint> members, PatroniCheckConfig? settings = null, TimeSpan? requestTimeout = null,
        TimeSpan? switchoverTimeout = null)
    {
        if (members.Count == 0)
            throw new ArgumentException("A Patroni client needs at least one member's REST API address.", nameof(members));
        Members = members;
        _settings = settings ?? new PatroniCheckConfig();
        _requestTimeout = requestTimeout ?? TimeSpan.FromSeconds(5);
        SwitchoverTimeout = switchoverTimeout ?? TimeSpan.FromSeconds(90);
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = _requestTimeout,
            UseProxy = false,
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        };
        if (_settings.CaFile is { } caFile)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(caFile);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors, roots);
        }
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public IReadOnlyList<PatroniApiEndpoint> Members { get; }

    public TimeSpan SwitchoverTimeout { get; }

    /// <summary>A client for every member of a configured cluster (<c>host:patroni_port</c>, https when
    /// <c>health.patroni.ssl</c>), with the cluster's REST credentials.</summary>
    public static PatroniClient ForCluster(ClusterConfig cluster, TimeSpan? requestTimeout = null)
    {
        var scheme = cluster.Health.Patroni.Ssl ? "https" : "http";
        var members = new PatroniApiEndpoint[cluster.Members.Count];
        for (var i = 0; i < members.Length; i++)
        {
            var m = cluster.Members[i];
            var host = IPAddress.TryParse(m.Host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{m.Host}]" : m.Host;
            members[i] = new PatroniApiEndpoint(m.Name, new Uri($"{scheme}://{host}:{m.PatroniPort}"));
        }
        return new PatroniClient(members, cluster.Health.Patroni, requestTimeout ?? cluster.Health.CheckTimeout);
    }

    /// <summary><c>GET /cluster</c> from the first member that answers.</summary>
    public async Task<PatroniClusterStatus> GetClusterAsync(CancellationToken cancellationToken = default)
    {
        var failures = new List<string>();
        foreach (var member in Members)
        {
            try
            {
                var (status, body) = await SendAsync(member, HttpMethod.Get, "/cluster", null, _requestTimeout, cancellationToken).ConfigureAwait(false);
                if (status != HttpStatusCode.OK)
                {
                    failures.Add($"{member.Member}: HTTP {(int)status} {Trim(body)}");
                    continue;
                }
                return ParseCluster(Encoding.UTF8.GetBytes(body));
            }
            catch (PatroniApiException e) when (e.StatusCode is null)
            {
                failures.Add($"{member.Member}: {e.Message}");
            }
            catch (JsonException e)
            {
                failures.Add($"{member.Member}: unreadable GET /cluster answer ({e.Message})");
            }
        }
        throw new PatroniApiException(
            "No Patroni REST API answered GET /cluster (" + string.Join("; ", failures) + "). Check that Patroni runs on the members " +
            "and that their REST addresses and ports are right (Pigsty: patroni_port 8008).");
    }

    /// <summary>
    /// <c>POST /switchover</c>: moves leadership from <paramref name="leader"/> (the current leader when null) to
    /// <paramref name="candidate"/> (Patroni picks the healthiest replica when null), now or at <paramref name="scheduledAt"/>.
    /// Returns once Patroni reports the outcome; throws <see cref="PatroniApiException"/> with Patroni's message when it
    /// refuses (wrong leader or candidate, no healthy candidate, bad credentials) or the switchover fails.
    /// </summary>
    public async Task<PatroniSwitchoverResult> SwitchoverAsync(
        string? leader = null, string? candidate = null, DateTimeOffset? scheduledAt = null, CancellationToken cancellationToken = default)
    {
        if (leader is null)
        {
            var cluster = await GetClusterAsync(cancellationToken).ConfigureAwait(false);
            leader = cluster.Leader?.Name ?? throw new PatroniApiException(
                "Cannot switch over: the cluster has no leader right now (a switchover moves leadership from a running leader). " +
                "Wait for Patroni to elect one, or use a failover to a chosen candidate.");
        }

        var body = JsonBody(leader, candidate, scheduledAt);
        var failures = new List<string>();
        foreach (var member in LeaderFirst(leader))
        {
            HttpStatusCode status;
            string text;
            try
            {
                (status, text) = await SendAsync(member, HttpMethod.Post, "/switchover", body, SwitchoverTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (PatroniApiException e) when (e.StatusCode is null)
            {
                failures.Add($"{member.Member}: {e.Message}");
                continue;
            }

            var message = text.Trim();
            switch (status)
            {
                case HttpStatusCode.OK:
                    return new PatroniSwitchoverResult(false, message, member.Member);
                case HttpStatusCode.Accepted:
                    return new PatroniSwitchoverResult(true, message, member.Member);
                default:
                    throw new PatroniApiException(
                        $"Patroni on {member.Member} ({member.BaseAddress}) refused the switchover from {leader}" +
                        (candidate is null ? "" : $" to {candidate}") + $": HTTP {(int)status} \"{message}\". {Advice(status, message)}",
                        status, message);
            }
        }
        throw new PatroniApiException("No Patroni REST API could be reached for the switchover (" + string.Join("; ", failures) + ").");
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Reads Patroni's <c>GET /cluster</c> document.</summary>
    public static PatroniClusterStatus ParseCluster(ReadOnlySpan<byte> json)
    {
        using var document = JsonDocument.Parse(json.ToArray());
        var root = document.RootElement;
        var members = new List<PatroniClusterMember>();
        if (root.TryGetProperty("members", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var m in list.EnumerateArray())
            {
                var tags = new Dictionary<string, string>(StringComparer.Ordinal);
                if (m.TryGetProperty("tags", out var t) && t.ValueKind == JsonValueKind.Object)
                {
                    foreach (var p in t.EnumerateObject())
                        tags[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
                }
                members.Add(new PatroniClusterMember
                {
                    Name = Str(m, "name") ?? "",
                    Role = Str(m, "role") ?? "",
                    State = Str(m, "state") ?? "",
                    ApiUrl = Str(m, "api_url"),
                    Host = Str(m, "host"),
                    Port = m.TryGetProperty("port", out var port) && port.TryGetInt32(out var p32) ? p32 : null,
                    Timeline = m.TryGetProperty("timeline", out var tl) && tl.TryGetInt64(out var tli) ? tli : null,
                    LagBytes = m.TryGetProperty("lag", out var lag) && lag.ValueKind == JsonValueKind.Number && lag.TryGetInt64(out var l) ? l : null,
                    Tags = tags,
                });
            }
        }

        PatroniScheduledSwitchover? scheduled = null;
        if (root.TryGetProperty("scheduled_switchover", out var s) && s.ValueKind == JsonValueKind.Object
            && DateTimeOffset.TryParse(Str(s, "at"), CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
        {
            scheduled = new PatroniScheduledSwitchover(at, Str(s, "from"), Str(s, "to"));
        }

        return new PatroniClusterStatus
        {
            Members = members,
            Paused = root.TryGetProperty("pause", out var pause) && pause.ValueKind == JsonValueKind.True,
            ScheduledSwitchover = scheduled,
        };
    }

    private IEnumerable<PatroniApiEndpoint> LeaderFirst(string leader)
    {
        foreach (var m in Members)
        {
            if (m.Member == leader)
                yield return m;
        }
        foreach (var m in Members)
        {
            if (m.Member != leader)
                yield return m;
        }
    }

    private async Task<(HttpStatusCode Status, string Body)> SendAsync(
        PatroniApiEndpoint member, HttpMethod method, string path, byte[]? body, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(member.BaseAddress, path));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        if (method != HttpMethod.Get && _settings.Username is { } user)
        {
            var password = _settings.Password.Resolve() ?? "";
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password)));
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await _http.SendAsync(request, deadline.Token).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(deadline.Token).ConfigureAwait(false);
            return (response.StatusCode, text);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PatroniApiException($"{method} {path} to {member.BaseAddress} got no answer within {timeout.TotalSeconds:0.#} s", null, null, e);
        }
        catch (HttpRequestException e)
        {
            throw new PatroniApiException($"{method} {path} to {member.BaseAddress} failed: {(e.InnerException ?? e).Message}", null, null, e);
        }
    }

    private string Advice(HttpStatusCode status, string message) => status switch
    {
        HttpStatusCode.Unauthorized => _settings.Username is null
            ? "Patroni requires its REST credentials for a switchover: set health.patroni.username and password " +
              "(Pigsty: patroni_username postgres, patroni_password Patroni.API)."
            : $"Patroni did not accept user {_settings.Username} and its password: check health.patroni.username and password " +
              "against restapi.authentication in patroni.yml.",
        HttpStatusCode.Forbidden => "Patroni's restapi.allowlist does not admit this host: run the command from an allowed host " +
            "(Pigsty admits the cluster's members and the infra nodes) or extend the allowlist.",
        HttpStatusCode.PreconditionFailed => "Check the leader and candidate names (`pggate status` or GET /cluster) and that the " +
            "candidate is a healthy replica" + (message.Contains("sync", StringComparison.Ordinal) ? " (in synchronous mode: the sync standby)." : "."),
        HttpStatusCode.ServiceUnavailable when message.Contains("status unknown", StringComparison.Ordinal) =>
            "Patroni stopped waiting for the outcome; the switchover may still complete: GET /cluster (or the leader key) says " +
            "who leads now.",
        HttpStatusCode.ServiceUnavailable => "Patroni could not complete the switchover; GET /cluster and the Patroni logs say why. " +
            "The old leader normally stays leader when a switchover fails.",
        _ => "See the Patroni log of that member for details.",
    };

    private static byte[] JsonBody(string leader, string? candidate, DateTimeOffset? scheduledAt)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("leader", leader);
            if (candidate is not null)
                writer.WriteString("candidate", candidate);
            if (scheduledAt is { } at)
                writer.WriteString("scheduled_at", at.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture));
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static bool IsTrusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (errors == SslPolicyErrors.None)
            return true;
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string Trim(string text)
    {
        var t = text.Trim();
        return t.Length <= 200 ? t : t[..200] + "...";
    }
}
