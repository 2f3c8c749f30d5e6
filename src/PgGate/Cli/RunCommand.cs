using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using PgGate.Hosting;

namespace PgGate.Cli;

/// <summary><c>pggate run</c>: serve the services of this node's cluster(s) until SIGINT or SIGTERM.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var source = new ConfigOptions();
        var node = new Option<string?>("--node", "-n")
        {
            Description = "The member this node runs beside (name such as pg-test-1, or its address). " +
                          "Without it, every cluster in the configuration is served (a dedicated proxy node).",
        };
        var bind = new Option<string?>("--bind")
        {
            Description = "Bind every listener of this node (services, admin) to this address instead of the configured ones, " +
                          "so several nodes can share one machine (e.g. 127.0.0.11).",
        };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Least severe log level shown.", DefaultValueFactory = _ => LogLevel.Information };
        var command = new Command("run", "Serve the cluster's services on this node, routed by live health.");
        source.AddTo(command);
        command.Options.Add(node);
        command.Options.Add(bind);
        command.Options.Add(logLevel);
        command.SetAction(async (result, cancellationToken) =>
        {
            var config = source.Load(result);
            using var loggers = ConsoleLogging.Create(result.GetValue(logLevel));
            var log = loggers.CreateLogger("pggate");
            await using var host = new GateHost(config, [new NodeSpec(result.GetValue(node), result.GetValue(bind))], loggers);
            try
            {
                await host.StartAsync(cancellationToken);
            }
            catch (InvalidOperationException ex)
            {
                return GateCommandLine.Fail(ex.Message, 1);
            }
            foreach (var n in host.Nodes)
            {
                foreach (var l in n.Listeners)
                    log.LogInformation("{Service} listening on {Endpoint} -> {Dest} of {Check} members", l.Router.Name, l.Endpoint, l.Router.Service.Dest, l.Router.Service.Check);
                foreach (var p in n.Poolers)
                {
                    foreach (var l in p.Listeners)
                        log.LogInformation("pooler listening on {Endpoint} -> {Member} PostgreSQL, pool_mode {Mode}", l.Endpoint, p.Member?.Name, p.Config.Settings.PoolMode);
                }
                if (n.AdminEndpoint is { } admin)
                    log.LogInformation("status page and /metrics on http://{Admin}/", admin);
            }
            await WaitForShutdownAsync(cancellationToken);
            log.LogInformation("stopping");
            return 0;
        });
        return command;
    }

    /// <summary>Completes on SIGINT/SIGTERM (or when the command line's token is cancelled).</summary>
    public static async Task WaitForShutdownAsync(CancellationToken cancellationToken)
    {
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stop.TrySetResult(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; stop.TrySetResult(); });
        using var reg = cancellationToken.Register(() => stop.TrySetResult());
        await stop.Task;
    }
}
