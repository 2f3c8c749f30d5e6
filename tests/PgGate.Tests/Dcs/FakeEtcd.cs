using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace PgGate.Tests.Dcs;

/// <summary>
/// A tiny stand-in for etcd's v3 JSON gateway with one key: version, range, authenticate and a streaming watch that the
/// test drives (events, raw bytes, errors, a clean end, a dropped connection). Speaks the wire format real etcd 3.4
/// produced in the integration tests: int64s as strings, base64 keys and values, one JSON object per line.
/// </summary>
internal sealed class FakeEtcd : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<int, Channel<WatchCommand>> _watches = new();
    private readonly object _lock = new();
    private int _nextWatch;
    private string? _value;
    private long _revision = 1;
    private long _modRevision;

    private FakeEtcd(WebApplication app) => _app = app;

    public Uri Endpoint { get; private set; } = null!;

    public string Key { get; init; } = "/pg/pg-test/leader";

    /// <summary>When set, authenticate accepts only this user/password and every other request needs the token.</summary>
    public (string User, string Password)? Credentials { get; set; }

    public const string Token = "fake-token.42";

    /// <summary>While true, range answers HTTP 503 (an unhealthy member).</summary>
    public bool Failing { get; set; }

    public ConcurrentQueue<long> WatchStartRevisions { get; } = new();

    public ConcurrentQueue<string?> AuthorizationHeaders { get; } = new();

    public ConcurrentQueue<string?> HasLeaderHeaders { get; } = new();

    public int RangeRequests => Volatile.Read(ref _rangeRequests);

    public int WatchRequests => Volatile.Read(ref _watchRequests);

    public int OpenWatches => _watches.Count;

    private int _rangeRequests;
    private int _watchRequests;

    public long Revision
    {
        get
        {
            lock (_lock)
                return _revision;
        }
    }

    public static async Task<FakeEtcd> StartAsync(string? initialValue = "pg-test-1", long initialRevision = 5)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var etcd = new FakeEtcd(app) { _value = initialValue, _revision = initialRevision, _modRevision = initialValue is null ? 0 : initialRevision };
        app.MapGet("/version", () => Results.Text("{\"etcdserver\":\"3.4.23\",\"etcdcluster\":\"3.4.0\"}", "application/json"));
        app.MapPost("/v3/auth/authenticate", etcd.AuthenticateAsync);
        app.MapPost("/v3/kv/range", etcd.RangeAsync);
        app.MapPost("/v3/watch", etcd.WatchAsync);
        await app.StartAsync();
        etcd.Endpoint = new Uri(app.Urls.First());
        return etcd;
    }

    /// <summary>Writes the key and streams the event to open watches; returns the revision.</summary>
    public long Put(string value, bool notifyWatches = true)
    {
        string message;
        lock (_lock)
        {
            _revision++;
            _value = value;
            _modRevision = _revision;
            message = $"{{\"result\":{{\"header\":{Header()},\"events\":[{{\"kv\":{{\"key\":\"{B64(Key)}\",\"create_revision\":\"{_revision}\"," +
                $"\"mod_revision\":\"{_revision}\",\"version\":\"1\",\"value\":\"{B64(value)}\",\"lease\":\"7587\"}}}}]}}}}\n";
        }
        if (notifyWatches)
            Broadcast(WatchCommand.Bytes(message));
        return Revision;
    }

    public long Delete(bool notifyWatches = true)
    {
        string message;
        lock (_lock)
        {
            _revision++;
            _value = null;
            _modRevision = 0;
            message = $"{{\"result\":{{\"header\":{Header()},\"events\":[{{\"type\":\"DELETE\",\"kv\":{{\"key\":\"{B64(Key)}\",\"mod_revision\":\"{_revision}\"}}}}]}}}}\n";
        }
        if (notifyWatches)
            Broadcast(WatchCommand.Bytes(message));
        return Revision;
    }

    /// <summary>Raw bytes on every open watch stream, flushed as one chunk.</summary>
    public void SendRaw(string text) => Broadcast(WatchCommand.Bytes(text));

    /// <summary>Ends every open watch response cleanly (as etcd does when it shuts down).</summary>
    public void EndWatches() => Broadcast(WatchCommand.End);

    /// <summary>Drops every open watch connection (a crash).</summary>
    public void AbortWatches() => Broadcast(WatchCommand.Abort);

    public async Task WaitForWatchesAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (WatchRequests < count || OpenWatches == 0)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"expected watch request #{count}; got {WatchRequests}, {OpenWatches} open");
            await Task.Delay(5);
        }
    }

    public static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    public async ValueTask DisposeAsync()
    {
        Broadcast(WatchCommand.End);
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private string Header() => $"{{\"cluster_id\":\"1\",\"member_id\":\"2\",\"revision\":\"{_revision}\",\"raft_term\":\"2\"}}";

    private void Broadcast(WatchCommand command)
    {
        foreach (var channel in _watches.Values)
            channel.Writer.TryWrite(command);
    }

    private async Task AuthenticateAsync(HttpContext context)
    {
        using var body = await JsonDocument.ParseAsync(context.Request.Body);
        var name = body.RootElement.GetProperty("name").GetString();
        var password = body.RootElement.GetProperty("password").GetString();
        if (Credentials is not { } expected)
        {
            await Error(context, 400, "etcdserver: authentication is not enabled", 9);
            return;
        }
        if (name != expected.User || password != expected.Password)
        {
            await Error(context, 400, "etcdserver: authentication failed, invalid user ID or password", 3);
            return;
        }
        await context.Response.WriteAsync($"{{\"header\":{Header()},\"token\":\"{Token}\"}}");
    }

    private bool Authorized(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        AuthorizationHeaders.Enqueue(header.Length == 0 ? null : header);
        return Credentials is null || header == Token;
    }

    private async Task RangeAsync(HttpContext context)
    {
        Interlocked.Increment(ref _rangeRequests);
        using var body = await JsonDocument.ParseAsync(context.Request.Body);
        if (Failing)
        {
            await Error(context, 503, "etcdserver: request timed out", 14);
            return;
        }
        if (!Authorized(context))
        {
            await Error(context, 401, "etcdserver: user name is empty", 16);
            return;
        }
        string response;
        lock (_lock)
        {
            response = _value is null
                ? $"{{\"header\":{Header()}}}"
                : $"{{\"header\":{Header()},\"kvs\":[{{\"key\":\"{B64(Key)}\",\"create_revision\":\"{_modRevision}\",\"mod_revision\":\"{_modRevision}\"," +
                  $"\"version\":\"1\",\"value\":\"{B64(_value)}\",\"lease\":\"7587\"}}],\"count\":\"1\"}}";
        }
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(response);
    }

    private async Task WatchAsync(HttpContext context)
    {
        Interlocked.Increment(ref _watchRequests);
        using var body = await JsonDocument.ParseAsync(context.Request.Body);
        HasLeaderHeaders.Enqueue(context.Request.Headers["Grpc-Metadata-hasleader"].ToString());
        if (!Authorized(context))
        {
            await Error(context, 401, "etcdserver: user name is empty", 16);
            return;
        }
        var create = body.RootElement.GetProperty("create_request");
        WatchStartRevisions.Enqueue(long.Parse(create.GetProperty("start_revision").GetString()!, System.Globalization.CultureInfo.InvariantCulture));

        var channel = Channel.CreateUnbounded<WatchCommand>();
        var id = Interlocked.Increment(ref _nextWatch);
        context.Response.ContentType = "application/json";
        string created;
        lock (_lock)
            created = $"{{\"result\":{{\"header\":{Header()},\"created\":true}}}}\n";
        _watches[id] = channel;
        try
        {
            await context.Response.WriteAsync(created);
            await context.Response.Body.FlushAsync();
            await foreach (var command in channel.Reader.ReadAllAsync(context.RequestAborted))
            {
                if (command.Kind == WatchCommandKind.End)
                    return;
                if (command.Kind == WatchCommandKind.Abort)
                {
                    context.Abort();
                    return;
                }
                await context.Response.WriteAsync(command.Text!);
                await context.Response.Body.FlushAsync();
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _watches.TryRemove(id, out _);
        }
    }

    private static async Task Error(HttpContext context, int status, string message, int code)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, object> { ["error"] = message, ["code"] = code, ["message"] = message }));
    }

    private enum WatchCommandKind
    {
        Bytes,
        End,
        Abort,
    }

    private sealed record WatchCommand(WatchCommandKind Kind, string? Text)
    {
        public static readonly WatchCommand End = new(WatchCommandKind.End, null);
        public static readonly WatchCommand Abort = new(WatchCommandKind.Abort, null);

        public static WatchCommand Bytes(string text) => new(WatchCommandKind.Bytes, text);
    }
}
