using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PgGate.Hosting;

namespace PgGate.Admin;

/// <summary>
/// The admin HTTP endpoint of every node in this process (default <c>:9101</c>, where Pigsty's HAProxy
/// stats page was): <c>/</c> the live status page, <c>/api/status</c> JSON, <c>/metrics</c> Prometheus
/// text, <c>/health</c> liveness. A request is answered for the node whose address it arrived on.
/// </summary>
public sealed class AdminServer : IAsyncDisposable
{
    private readonly GateHost _host;
    private readonly ILoggerFactory _loggers;
    private WebApplication? _app;

    public AdminServer(GateHost host, ILoggerFactory loggers)
    {
        _host = host;
        _loggers = loggers;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var endpoints = new List<IPEndPoint>();
        foreach (var n in _host.Nodes)
        {
            if (n.AdminEndpoint is { } ep && !endpoints.Contains(ep))
                endpoints.Add(ep);
        }
        if (endpoints.Count == 0)
            return;

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(_loggers);
        builder.WebHost.ConfigureKestrel(k =>
        {
            foreach (var ep in endpoints)
                k.Listen(ep);
            k.AddServerHeader = false;
        });
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            if (AdminAuthentication.Challenge(context, _host.Config.Admin) is { } challenge)
            {
                await challenge.ExecuteAsync(context).ConfigureAwait(false);
                return;
            }
            await next(context).ConfigureAwait(false);
        });
        app.MapGet("/", (HttpContext ctx) => Results.Content(StatusPage.Render(_host, NodeFor(ctx)), "text/html; charset=utf-8"));
        app.MapGet("/api/status", (HttpContext ctx) => Results.Bytes(StatusJson.Render(_host, NodeFor(ctx)), "application/json"));
        app.MapGet("/metrics", (HttpContext ctx) => Results.Text(PrometheusMetrics.Render(_host, NodeFor(ctx)), "text/plain; version=0.0.4; charset=utf-8"));
        app.MapGet("/health", () => Results.Text("ok\n"));
        SwitchoverApi.Map(app, _host, NodeFor);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
    }

    private GateNode? NodeFor(HttpContext ctx)
    {
        var local = ctx.Connection.LocalIpAddress;
        var port = ctx.Connection.LocalPort;
        GateNode? wildcard = null;
        foreach (var n in _host.Nodes)
        {
            if (n.AdminEndpoint is not { } ep || ep.Port != port)
                continue;
            if (local is not null && ep.Address.Equals(local))
                return n;
            if (ep.Address.Equals(IPAddress.Any) || ep.Address.Equals(IPAddress.IPv6Any))
                wildcard ??= n;
        }
        return wildcard ?? (_host.Nodes.Count > 0 ? _host.Nodes[0] : null);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }
}
