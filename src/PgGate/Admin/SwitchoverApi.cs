using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using PgGate.Failover;
using PgGate.Hosting;

namespace PgGate.Admin;

/// <summary>
/// The admin API a switchover uses: <c>POST /api/clusters/{cluster}/switchover</c> (the whole sequence, fanned out to every
/// node of the cluster), and the per-node steps other coordinators call: <c>POST .../pause</c>, <c>POST .../resume</c>,
/// <c>GET .../leader</c> (optionally waiting for a change). Errors are JSON <c>{"error": "..."}</c> with 4xx/5xx.
/// </summary>
internal static class SwitchoverApi
{
    private static readonly HttpClient Http = HttpSwitchoverNode.CreateClient();

    public static void Map(WebApplication app, GateHost host, Func<HttpContext, GateNode?> nodeFor)
    {
        app.MapPost("/api/clusters/{cluster}/pause", async (HttpContext ctx, string cluster) =>
        {
            if (Control(nodeFor(ctx), cluster, out var control) is { } missing)
                return missing;
            using var body = await ReadBodyAsync(ctx).ConfigureAwait(false);
            var root = body.RootElement;
            var drain = Millis(root, "drain_timeout_ms") ?? TimeSpan.FromSeconds(10);
            var hold = Millis(root, "hold_limit_ms") ?? TimeSpan.FromMinutes(3);
            var fence = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("fence", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
            if (fence is not null && control!.Monitor.Config.FindMember(fence) is null)
                return Error(HttpStatusCode.BadRequest, $"cluster {cluster} has no member '{fence}' to fence");
            var outcome = await control!.PauseAsync(drain, hold, fence, ctx.RequestAborted).ConfigureAwait(false);
            return Json(w => SwitchoverJson.WritePause(w, outcome));
        });

        app.MapPost("/api/clusters/{cluster}/resume", (HttpContext ctx, string cluster) =>
        {
            if (Control(nodeFor(ctx), cluster, out var control) is { } missing)
                return missing;
            var was = control!.Resume();
            return Json(w =>
            {
                w.WriteStartObject();
                w.WriteBoolean("was_paused", was);
                w.WriteEndObject();
            });
        });

        app.MapGet("/api/clusters/{cluster}/leader", async (HttpContext ctx, string cluster) =>
        {
            if (Control(nodeFor(ctx), cluster, out var control) is { } missing)
                return missing;
            var q = ctx.Request.Query;
            var view = control!.Monitor.Current;
            if (long.TryParse(q["timeout_ms"], CultureInfo.InvariantCulture, out var ms) && ms > 0)
            {
                string? expect = q["expect"];
                string? changedFrom = q["changed_from"];
                try
                {
                    view = await control.Monitor.WaitForAsync(
                        v => v.WriteLeader?.Name is { } l && (expect is not null ? l == expect : changedFrom is null || l != changedFrom),
                        TimeSpan.FromMilliseconds(ms), ctx.RequestAborted).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    view = control.Monitor.Current;
                }
            }
            return Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("cluster", cluster);
                w.WriteString("leader", view.WriteLeader?.Name);
                w.WriteNumber("view_version", view.Version);
                w.WriteBoolean("paused", control.IsPaused);
                w.WriteString("fenced", control.Monitor.Fenced);
                w.WriteEndObject();
            });
        });

        app.MapPost("/api/clusters/{cluster}/switchover", async (HttpContext ctx, string cluster) =>
        {
            var config = host.Config.FindCluster(cluster);
            if (config is null)
                return Error(HttpStatusCode.NotFound, $"no cluster named '{cluster}' in this node's configuration");
            using var body = await ReadBodyAsync(ctx).ConfigureAwait(false);
            var root = body.RootElement;
            var isObject = root.ValueKind == JsonValueKind.Object;
            if (isObject && root.TryGetProperty("promote_command", out _))
            {
                return Error(HttpStatusCode.BadRequest, "the HTTP API does not run commands: a switchover with a promote command is " +
                    "run from the command line (pggate switchover --promote-command ...)");
            }
            DateTimeOffset? at = null;
            if (isObject && root.TryGetProperty("scheduled_at", out var s) && s.ValueKind == JsonValueKind.String)
            {
                if (!DateTimeOffset.TryParse(s.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
                    return Error(HttpStatusCode.BadRequest, $"scheduled_at '{s.GetString()}' is not a time (give ISO 8601, e.g. 2026-11-26T05:00:00+00:00)");
                at = parsed;
            }
            List<string>? explicitNodes = null;
            if (isObject && root.TryGetProperty("nodes", out var n) && n.ValueKind == JsonValueKind.Array)
                explicitNodes = [.. n.EnumerateArray().Select(x => x.GetString() ?? "")];
            var request = new SwitchoverRequest
            {
                Cluster = cluster,
                To = isObject && root.TryGetProperty("to", out var to) && to.ValueKind == JsonValueKind.String ? to.GetString() : null,
                ScheduledAt = at,
                DrainTimeout = Millis(root, "drain_timeout_ms") ?? TimeSpan.FromSeconds(10),
                LeaderTimeout = Millis(root, "leader_timeout_ms") ?? TimeSpan.FromSeconds(60),
            };
            IReadOnlyList<ISwitchoverNode> nodes;
            try
            {
                nodes = NodesFor(host, config, explicitNodes);
            }
            catch (Config.ConfigException e)
            {
                return Error(HttpStatusCode.BadRequest, e.Message);
            }
            var report = await new SwitchoverCoordinator(config, nodes).RunAsync(request, null, ctx.RequestAborted).ConfigureAwait(false);
            return Results.Text(System.Text.Encoding.UTF8.GetString(SwitchoverJson.Report(report)), "application/json", System.Text.Encoding.UTF8, report.Ok ? 200 : 409);
        });
    }

    /// <summary>The cluster's nodes: those of this process directly, the others through their admin API.</summary>
    public static IReadOnlyList<ISwitchoverNode> NodesFor(GateHost host, Config.ClusterConfig cluster, IReadOnlyList<string>? explicitNodes)
    {
        var list = new List<ISwitchoverNode>();
        foreach (var uri in SwitchoverNodes.AdminAddresses(host.Config, cluster, explicitNodes))
        {
            GateNode? local = null;
            foreach (var node in host.Nodes)
            {
                if (node.AdminEndpoint is { } ep && ep.Port == uri.Port && node.PauseControl(cluster.Name) is not null
                    && (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && ep.Address.Equals(ip)
                        || node.Spec.Member is { } m && cluster.FindMember(m)?.Host == uri.Host))
                {
                    local = node;
                    break;
                }
            }
            list.Add(local is not null ? new LocalSwitchoverNode(local) : new HttpSwitchoverNode(Http, uri, AdminAuthentication.HeaderFor(host.Config.Admin)));
        }
        return list;
    }

    private static IResult? Control(GateNode? node, string cluster, out ClusterPauseControl? control)
    {
        control = node?.PauseControl(cluster);
        return control is null
            ? Error(HttpStatusCode.NotFound, $"node {node?.Name ?? "(none)"} does not serve a cluster named '{cluster}'")
            : null;
    }

    private static async Task<JsonDocument> ReadBodyAsync(HttpContext ctx)
    {
        using var reader = new StreamReader(ctx.Request.Body);
        var text = await reader.ReadToEndAsync(ctx.RequestAborted).ConfigureAwait(false);
        try
        {
            return JsonDocument.Parse(string.IsNullOrWhiteSpace(text) ? "{}" : text);
        }
        catch (JsonException e)
        {
            throw new BadHttpRequestException($"the request body is not JSON: {e.Message}");
        }
    }

    private static TimeSpan? Millis(JsonElement root, string name) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.TryGetInt64(out var ms) && ms > 0
            ? TimeSpan.FromMilliseconds(ms)
            : null;

    private static IResult Json(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
            write(w);
        return Results.Bytes(stream.ToArray(), "application/json");
    }

    /// <summary>A JSON <c>{"error": "..."}</c> answer, the admin API's error shape.</summary>
    internal static IResult Error(HttpStatusCode status, string message) =>
        Results.Text(System.Text.Encoding.UTF8.GetString(ErrorBody(message)), "application/json", System.Text.Encoding.UTF8, (int)status);

    private static byte[] ErrorBody(string message)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("error", message);
            w.WriteEndObject();
        }
        return stream.ToArray();
    }
}
