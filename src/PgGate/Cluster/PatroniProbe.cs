using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using PgGate.Config;

namespace PgGate.Cluster;

/// <summary>
/// Pigsty's health check, exactly: <c>OPTIONS http://member:8008&lt;check&gt;</c>, and 200 passes —
/// one request per check path, each bounded by the check timeout. A <c>GET /patroni</c> alongside
/// reads the member's role, timeline, WAL position and tags for the view and for live selectors.
/// </summary>
public sealed class PatroniProbe : IMemberProbe
{
    private readonly HttpClient _http;
    private readonly Uri _base;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;

    public PatroniProbe(ClusterConfig cluster, MemberConfig member, TimeSpan timeout, TimeProvider time)
    {
        _timeout = timeout;
        _time = time;
        var scheme = cluster.Health.Patroni.Ssl ? "https" : "http";
        _base = new Uri($"{scheme}://{HostForUri(member.Host)}:{member.PatroniPort}");
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = timeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            UseProxy = false,
            AllowAutoRedirect = false,
        };
        if (cluster.Health.Patroni.Ssl && cluster.Health.Patroni.CaFile is { } caFile)
        {
            var ca = X509CertificateLoader.LoadCertificateFromFile(caFile);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, errors) =>
            {
                if (errors == System.Net.Security.SslPolicyErrors.None)
                    return true;
                if (cert is null)
                    return false;
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(X509CertificateLoader.LoadCertificate(cert.Export(X509ContentType.Cert)));
            };
        }
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public async ValueTask<ProbeResult> ProbeAsync(IReadOnlyList<CheckPath> checks, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(_timeout);
        var factsTask = ReadFactsAsync(cts.Token);
        var checkTasks = new Task<bool>[checks.Count];
        for (var i = 0; i < checks.Count; i++)
            checkTasks[i] = CheckAsync(checks[i], cts.Token);

        var passed = new bool[checks.Count];
        for (var i = 0; i < checkTasks.Length; i++)
            passed[i] = await checkTasks[i].ConfigureAwait(false);
        var facts = await factsTask.ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return new ProbeResult(facts, passed);
    }

    private async Task<bool> CheckAsync(CheckPath check, CancellationToken ct)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Options, new Uri(_base, check.Raw));
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception)
        {
            // Refused, reset, timed out: HAProxy counts all of these as a failed check (L4/L7 failure).
            return false;
        }
    }

    private async Task<MemberFacts> ReadFactsAsync(CancellationToken ct)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri(_base, "/patroni"), ct).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            return ParseFacts(body, _time.GetUtcNow());
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new MemberFacts { Error = "Patroni REST API did not answer in time", ObservedAt = _time.GetUtcNow() };
        }
        catch (OperationCanceledException)
        {
            return new MemberFacts { Error = $"Patroni REST API did not answer within {_timeout.TotalSeconds:0.###}s", ObservedAt = _time.GetUtcNow() };
        }
        catch (HttpRequestException ex)
        {
            return new MemberFacts { Error = ex.InnerException?.Message ?? ex.Message, ObservedAt = _time.GetUtcNow() };
        }
        catch (JsonException ex)
        {
            return new MemberFacts { Reachable = true, Error = "unreadable GET /patroni answer: " + ex.Message, ObservedAt = _time.GetUtcNow() };
        }
    }

    /// <summary>Reads Patroni's <c>GET /patroni</c> document (Patroni 2.x says <c>master</c>, 3.x+ <c>primary</c>).</summary>
    public static MemberFacts ParseFacts(ReadOnlySpan<byte> json, DateTimeOffset at)
    {
        using var doc = JsonDocument.Parse(json.ToArray());
        var root = doc.RootElement;
        var state = Str(root, "state");
        var role = Str(root, "role") switch
        {
            "master" or "primary" => MemberRole.Primary,
            "standby_leader" => MemberRole.StandbyLeader,
            "replica" => MemberRole.Replica,
            _ => MemberRole.Unknown,
        };
        ulong? lsn = null;
        ulong? received = null;
        if (root.TryGetProperty("xlog", out var xlog) && xlog.ValueKind == JsonValueKind.Object)
        {
            lsn = U64(xlog, "location") ?? U64(xlog, "replayed_location");
            received = U64(xlog, "received_location");
        }
        var tags = new Dictionary<string, string>();
        if (root.TryGetProperty("tags", out var t) && t.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in t.EnumerateObject())
            {
                // Patroni drops false boolean tags and compares the rest as lower-cased strings.
                var value = p.Value.ValueKind switch
                {
                    JsonValueKind.String => p.Value.GetString()!,
                    JsonValueKind.True => "true",
                    JsonValueKind.False => null,
                    JsonValueKind.Null => null,
                    _ => p.Value.GetRawText().ToLowerInvariant(),
                };
                if (value is not null)
                    tags[p.Name] = value;
            }
        }
        var replication = new List<ReplicationPeer>();
        if (root.TryGetProperty("replication", out var repl) && repl.ValueKind == JsonValueKind.Array)
        {
            foreach (var r in repl.EnumerateArray())
                replication.Add(new ReplicationPeer(Str(r, "application_name") ?? "", Str(r, "client_addr"), Str(r, "state") ?? "", Str(r, "sync_state") ?? ""));
        }
        return new MemberFacts
        {
            Reachable = true,
            Running = state == "running",
            Role = role,
            IsLeader = role is MemberRole.Primary or MemberRole.StandbyLeader,
            Lsn = lsn,
            ReceivedLsn = received,
            Timeline = root.TryGetProperty("timeline", out var tl) && tl.TryGetInt64(out var tli) ? tli : null,
            Tags = tags,
            Replication = replication,
            Error = state == "running" ? null : "PostgreSQL " + (state ?? "state unknown"),
            ObservedAt = at,
        };
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static ulong? U64(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetUInt64(out var n) ? n : null;

    private static string HostForUri(string host) =>
        IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{host}]" : host;

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
