using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace PgGate.Cluster.Dcs;

/// <summary>The result of a range request for one key.</summary>
/// <param name="Revision">The store's revision when it was read.</param>
/// <param name="Value">The value, or null when the key does not exist.</param>
/// <param name="ModRevision">The revision that last wrote the key; 0 when it does not exist.</param>
/// <param name="Lease">The lease the key is attached to; 0 when none.</param>
internal readonly record struct EtcdKeyValue(long Revision, string? Value, long ModRevision, long Lease);

/// <summary>
/// One endpoint of etcd's v3 JSON gateway (grpc-gateway) after version detection and, when configured, authentication:
/// <c>POST /v3/kv/range</c>, <c>/kv/put</c>, <c>/kv/deleterange</c> and the streaming <c>/watch</c>. Keys and values travel
/// base64-encoded, 64-bit numbers as JSON strings. No gRPC package is needed.
/// </summary>
internal sealed class EtcdConnection
{
    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;
    private string? _token;

    private EtcdConnection(HttpClient http, Uri endpoint, TimeSpan timeout)
    {
        _http = http;
        Endpoint = endpoint;
        _timeout = timeout;
        ApiPrefix = "/v3";
    }

    public Uri Endpoint { get; }

    /// <summary><c>/v3</c> from etcd 3.4 on, <c>/v3beta</c> for 3.3, <c>/v3alpha</c> before (as Patroni chooses).</summary>
    public string ApiPrefix { get; private set; }

    /// <summary>The server's version from <c>GET /version</c>, or null when it did not say.</summary>
    public string? ServerVersion { get; private set; }

    /// <summary>An HTTP client for etcd: TLS with a private CA and client certificate when given, TCP keepalive on every
    /// connection, no proxy, no overall timeout (the watch streams for ever; requests carry their own deadline).</summary>
    public static HttpClient CreateHttpClient(string? caFile, string? certFile, string? keyFile, TimeSpan connectTimeout, TimeSpan keepAliveTime)
    {
        var keepAliveSeconds = Math.Max(1, (int)Math.Ceiling(keepAliveTime.TotalSeconds));
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = connectTimeout,
            UseProxy = false,
            AllowAutoRedirect = false,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                    socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, keepAliveSeconds);
                    socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 1);
                    socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };

        if (certFile is not null && keyFile is not null)
        {
            X509Certificate2 client;
            try
            {
                using var pem = X509Certificate2.CreateFromPemFile(certFile, keyFile);

                // SslStream wants a certificate whose key it can use from any thread; a PKCS#12 round trip gives one.
                client = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), password: null);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                throw new EtcdException(
                    $"Cannot load the etcd client certificate {certFile} with key {keyFile}: {e.Message}. Give PEM files readable by " +
                    "this process (Pigsty: /pg/cert/server.crt and /pg/cert/server.key).", e);
            }
            handler.SslOptions.ClientCertificates = [client];
        }

        if (caFile is not null)
        {
            X509Certificate2Collection roots;
            try
            {
                roots = [];
                roots.ImportFromPemFile(caFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                throw new EtcdException($"Cannot load the etcd CA file {caFile}: {e.Message}. Give the PEM file of the CA that signed " +
                    "etcd's certificate (Pigsty: /pg/cert/ca.crt).", e);
            }
            if (roots.Count == 0)
                throw new EtcdException($"The etcd CA file {caFile} holds no PEM certificate.");
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                IsTrusted(certificate, errors, roots);
        }

        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan, DefaultRequestVersion = HttpVersion.Version11 };
    }

    // The certificate must name the endpoint and chain to the configured CA (not to the system's roots).
    private static bool IsTrusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }

    /// <summary>Detects the API version and, when a user is given, authenticates (a fresh token per connection, so an
    /// expired token only ever costs one reconnect).</summary>
    public static async Task<EtcdConnection> OpenAsync(
        HttpClient http, Uri endpoint, string? username, string? password, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var connection = new EtcdConnection(http, endpoint, timeout);
        await connection.DetectVersionAsync(cancellationToken).ConfigureAwait(false);
        if (username is not null)
            await connection.AuthenticateAsync(username, password ?? "", cancellationToken).ConfigureAwait(false);
        return connection;
    }

    public async Task<EtcdKeyValue> RangeAsync(string key, CancellationToken cancellationToken)
    {
        using var document = await PostAsync("/kv/range", w => w.WriteString("key", Base64(key)), $"read {key}", cancellationToken)
            .ConfigureAwait(false);
        var root = document.RootElement;
        var revision = HeaderRevision(root);
        if (root.TryGetProperty("kvs", out var kvs) && kvs.ValueKind == JsonValueKind.Array)
        {
            foreach (var kv in kvs.EnumerateArray())
                return new EtcdKeyValue(revision, DecodeValue(kv), Int64(kv, "mod_revision"), Int64(kv, "lease"));
        }
        return new EtcdKeyValue(revision, null, 0, 0);
    }

    /// <summary>Writes a key (optionally attached to a lease); returns the revision of the write.</summary>
    public async Task<long> PutAsync(string key, string value, long lease, CancellationToken cancellationToken)
    {
        using var document = await PostAsync("/kv/put", w =>
        {
            w.WriteString("key", Base64(key));
            w.WriteString("value", Base64(value));
            if (lease != 0)
                w.WriteString("lease", lease.ToString(CultureInfo.InvariantCulture));
        }, $"write {key}", cancellationToken).ConfigureAwait(false);
        return HeaderRevision(document.RootElement);
    }

    /// <summary>Deletes a key; returns the revision of the delete (the store's revision when there was nothing to delete).</summary>
    public async Task<long> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        using var document = await PostAsync("/kv/deleterange", w => w.WriteString("key", Base64(key)), $"delete {key}", cancellationToken)
            .ConfigureAwait(false);
        return HeaderRevision(document.RootElement);
    }

    /// <summary>Grants a lease of <paramref name="ttlSeconds"/>; returns its id.</summary>
    public async Task<long> GrantLeaseAsync(long ttlSeconds, CancellationToken cancellationToken)
    {
        using var document = await PostAsync("/lease/grant", w => w.WriteString("TTL", ttlSeconds.ToString(CultureInfo.InvariantCulture)),
            "grant a lease", cancellationToken).ConfigureAwait(false);
        return Int64(document.RootElement, "ID");
    }

    /// <summary>
    /// Opens a watch on one key from <paramref name="startRevision"/> and returns the streaming response. The request asks
    /// etcd to end the watch when its member loses the raft leader (<c>hasleader</c> metadata, vip-manager's
    /// <c>WithRequireLeader</c>), so a partitioned member does not feed stale silence.
    /// </summary>
    public async Task<HttpResponseMessage> WatchAsync(string key, long startRevision, CancellationToken cancellationToken)
    {
        var body = Json(w =>
        {
            w.WriteStartObject("create_request");
            w.WriteString("key", Base64(key));
            w.WriteString("start_revision", startRevision.ToString(CultureInfo.InvariantCulture));
            w.WriteEndObject();
        });
        using var request = Request("/watch", body);
        request.Headers.TryAddWithoutValidation("Grpc-Metadata-hasleader", "true");
        HttpResponseMessage response;
        using (var deadline = Deadline(cancellationToken))
        {
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (IsTransportFailure(e, cancellationToken))
            {
                throw Unreachable("watch " + key, e);
            }
        }
        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                throw Refused("watch " + key, response.StatusCode, text);
            }
        }
        return response;
    }

    /// <summary>Throws the etcd error a watch response object carries, if any (<c>{"error": ...}</c>).</summary>
    public void ThrowIfError(JsonElement message, string what)
    {
        if (!message.TryGetProperty("error", out var error))
            return;
        var (text, code) = ErrorText(error, message);
        throw new EtcdException($"etcd at {Endpoint} ended the {what}: {text}") { GrpcCode = code };
    }

    internal static long Int64(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value))
            return 0;
        return value.ValueKind switch
        {
            JsonValueKind.String when long.TryParse(value.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => n,
            JsonValueKind.Number when value.TryGetInt64(out var n) => n,
            _ => 0,
        };
    }

    internal static long HeaderRevision(JsonElement message) =>
        message.TryGetProperty("header", out var header) ? Int64(header, "revision") : 0;

    internal static string? DecodeKey(JsonElement kv) => Decode(kv, "key");

    /// <summary>The value of a key-value; empty string when the key exists with an empty value (the gateway omits it).</summary>
    internal static string? DecodeValue(JsonElement kv) => Decode(kv, "value") ?? "";

    private static string? Decode(JsonElement kv, string name)
    {
        if (!kv.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
            return null;
        try
        {
            return Encoding.UTF8.GetString(value.GetBytesFromBase64());
        }
        catch (FormatException e)
        {
            throw new EtcdException($"etcd sent a {name} that is not base64: {value.GetString()}", e);
        }
    }

    internal static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private async Task DetectVersionAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Endpoint, "/version"));
        using var deadline = Deadline(cancellationToken);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (IsTransportFailure(e, cancellationToken))
        {
            throw Unreachable("read its version", e);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
                return; // A gateway in front may hide /version; the current API prefix is the likely one.
            try
            {
                using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(deadline.Token).ConfigureAwait(false));
                var root = document.RootElement;
                ServerVersion = root.TryGetProperty("etcdserver", out var server) ? server.GetString() : null;
                var version = root.TryGetProperty("etcdcluster", out var cluster) ? cluster.GetString() : null;
                ApiPrefix = ApiPrefixFor(version) ?? ApiPrefixFor(ServerVersion) ?? "/v3";
            }
            catch (JsonException)
            {
                // Not etcd's JSON: keep the default prefix; the first real request will say what is wrong.
            }
        }
    }

    internal static string? ApiPrefixFor(string? version)
    {
        if (version is null)
            return null;
        var parts = version.Split('.');
        if (parts.Length < 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var major)
            || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out var minor))
        {
            return null;
        }
        return (major, minor) switch
        {
            (3, >= 4) or (> 3, _) => "/v3",
            (3, 3) => "/v3beta",
            _ => "/v3alpha",
        };
    }

    private async Task AuthenticateAsync(string username, string password, CancellationToken cancellationToken)
    {
        try
        {
            using var document = await PostAsync("/auth/authenticate", w =>
            {
                w.WriteString("name", username);
                w.WriteString("password", password);
            }, $"authenticate user {username}", cancellationToken).ConfigureAwait(false);
            _token = document.RootElement.TryGetProperty("token", out var token) ? token.GetString() : null;
        }
        catch (EtcdException e) when (e.Message.Contains("authentication is not enabled", StringComparison.Ordinal))
        {
            _token = null; // As Patroni does: credentials for an etcd without auth are simply not needed.
        }
    }

    private async Task<JsonDocument> PostAsync(string path, Action<Utf8JsonWriter> writeBody, string what, CancellationToken cancellationToken)
    {
        using var request = Request(path, Json(writeBody));
        using var deadline = Deadline(cancellationToken);
        HttpResponseMessage response;
        byte[] body;
        try
        {
            response = await _http.SendAsync(request, deadline.Token).ConfigureAwait(false);
            body = await response.Content.ReadAsByteArrayAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (IsTransportFailure(e, cancellationToken))
        {
            throw Unreachable(what, e);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
                throw Refused(what, response.StatusCode, Encoding.UTF8.GetString(body));
            try
            {
                return JsonDocument.Parse(body);
            }
            catch (JsonException e)
            {
                throw new EtcdException($"etcd at {Endpoint} answered {what} with something that is not JSON: {Preview(Encoding.UTF8.GetString(body))}", e);
            }
        }
    }

    private HttpRequestMessage Request(string path, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Endpoint, ApiPrefix + path))
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (_token is not null)
            request.Headers.TryAddWithoutValidation("Authorization", _token);
        return request;
    }

    private CancellationTokenSource Deadline(CancellationToken cancellationToken)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        return deadline;
    }

    private static bool IsTransportFailure(Exception e, CancellationToken cancellationToken) =>
        e is HttpRequestException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private EtcdException Unreachable(string what, Exception e)
    {
        var reason = e is OperationCanceledException
            ? $"no answer within {_timeout.TotalSeconds:0.###} s"
            : (e.InnerException ?? e).Message;
        var tls = false;
        for (var inner = e; inner is not null; inner = inner.InnerException)
            tls |= inner is System.Security.Authentication.AuthenticationException;
        var hint = tls
            ? " The TLS handshake failed: the CA file must hold the CA that signed etcd's certificate, the endpoint must be an " +
              "address that certificate names, and etcd with a trusted CA also requires a client certificate and key signed by it."
            : "";
        return new EtcdException($"etcd at {Endpoint} is unreachable (could not {what}): {reason.TrimEnd('.')}.{hint}", e);
    }

    private EtcdException Refused(string what, HttpStatusCode status, string body)
    {
        string text;
        int? code = null;
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            (text, code) = root.TryGetProperty("error", out var error) ? ErrorText(error, root) : (Preview(body), null);
        }
        catch (JsonException)
        {
            text = Preview(body);
        }
        var hint = text.Contains("CommonName", StringComparison.Ordinal)
            ? " etcd requires client certificates (--client-cert-auth, implied by --trusted-ca-file) and has authentication on; its " +
              "JSON gateway, which PgGate and Patroni use, then refuses client certificates that carry a CommonName (etcd's fix for " +
              "CVE-2018-16886). Give PgGate a client certificate without a CommonName, signed by etcd's CA, and the etcd user's password."
            : code == 16 || text.Contains("auth", StringComparison.OrdinalIgnoreCase)
            ? " Check the etcd username and password (Pigsty: user = cluster name, password = pg_etcd_password or the cluster name)."
            : "";
        return new EtcdException($"etcd at {Endpoint} refused to {what}: {text} (HTTP {(int)status}).{hint}") { GrpcCode = code };
    }

    // The gateway reports errors as {"error": "text", "code": n, "message": "text"} or {"error": {"grpc_code": n, "message": ...}}.
    private static (string Text, int? Code) ErrorText(JsonElement error, JsonElement container)
    {
        if (error.ValueKind == JsonValueKind.Object)
        {
            var message = error.TryGetProperty("message", out var m) ? m.GetString() : null;
            int? grpc = error.TryGetProperty("grpc_code", out var g) && g.TryGetInt32(out var gc) ? gc : null;
            return (message ?? error.GetRawText(), grpc);
        }
        var text = error.ValueKind == JsonValueKind.String ? error.GetString() : error.GetRawText();
        if (container.TryGetProperty("message", out var msg) && msg.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(msg.GetString()))
            text = msg.GetString();
        int? code = container.TryGetProperty("code", out var c) && c.TryGetInt32(out var cv) ? cv : null;
        return (text ?? "unknown error", code);
    }

    private static byte[] Json(Action<Utf8JsonWriter> writeBody)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writeBody(writer);
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static string Preview(string text) => text.Length <= 300 ? text.Trim() : text[..300] + "...";
}
