using System.CommandLine;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using PgGate.Pooling;
using PgGate.Pooling.Ini;

namespace PgGate.Cli;

/// <summary>
/// <c>pggate pooler [--ini] pgbouncer.ini</c>: PgBouncer's role from PgBouncer's own configuration (and its userlist.txt
/// and HBA file), so switching is one changed command. SIGHUP and the console's RELOAD re-read the file without dropping
/// clients; SIGTERM stops at once, SIGINT waits for running transactions first (PgBouncer's safe shutdown).
/// </summary>
internal static class PoolerCommand
{
    public static Command Create()
    {
        var file = new Argument<string?>("ini") { Description = "The pgbouncer.ini to serve (same as --ini).", Arity = ArgumentArity.ZeroOrOne };
        var ini = new Option<string?>("--ini", "-c") { Description = "The pgbouncer.ini to serve." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Log warnings and errors only (PgBouncer's -q)." };
        var logLevel = new Option<LogLevel?>("--log-level") { Description = "Least severe log level shown (default Information)." };
        var command = new Command("pooler", "Run the connection pooler from a PgBouncer configuration (pgbouncer.ini, userlist.txt, HBA file).");
        command.Arguments.Add(file);
        command.Options.Add(ini);
        command.Options.Add(quiet);
        command.Options.Add(logLevel);
        command.SetAction(async (result, cancellationToken) =>
        {
            var path = result.GetValue(ini) ?? result.GetValue(file);
            if (path is null)
            {
                return GateCommandLine.Fail("pooler needs a pgbouncer.ini: pggate pooler --ini /etc/pgbouncer/pgbouncer.ini", 2);
            }

            var level = result.GetValue(logLevel) ?? (result.GetValue(quiet) ? LogLevel.Warning : LogLevel.Information);
            using var loggers = ConsoleLogging.Create(level);
            var log = loggers.CreateLogger("pggate.pooler");
            return await RunAsync(path, log, loggers.CreateLogger("pggate.pooler.sessions"), cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(string path, ILogger log, ILogger poolerLog, CancellationToken cancellationToken)
    {
        PoolerSettings Load()
        {
            var loaded = PgBouncerIni.Load(path);
            foreach (var warning in loaded.Warnings)
            {
                log.LogWarning("{Warning}", warning);
            }

            return loaded.Settings;
        }

        Pooler pooler;
        try
        {
            pooler = new Pooler(Load(), poolerLog);
        }
        catch (PoolerConfigurationException e)
        {
            return GateCommandLine.Fail(e.Message, 2);
        }

        var started = pooler.Settings;
        pooler.SettingsSource = () =>
        {
            var settings = Load();
            if (settings.ListenAddr != started.ListenAddr || settings.ListenPort != started.ListenPort)
            {
                log.LogWarning("listen_addr/listen_port changed in {Path}: they apply at the next start only", path);
            }

            return settings;
        };

        var listeners = new List<PoolerListener>();
        try
        {
            foreach (var listener in PoolerListener.ForSettings(pooler))
            {
                try
                {
                    listener.Start();
                }
                catch (SocketException e)
                {
                    await listener.DisposeAsync();
                    return GateCommandLine.Fail($"cannot listen on {listener.Endpoint} (listen_addr/listen_port of {path}): {e.Message}", 1);
                }

                listeners.Add(listener);
                log.LogInformation("pooler listening on {Endpoint}; admin console: database pgbouncer (or pggate)", listener.Endpoint);
            }

            await ServeUntilStoppedAsync(pooler, path, log, cancellationToken);
            return 0;
        }
        finally
        {
            foreach (var listener in listeners)
            {
                await listener.DisposeAsync();
            }

            await pooler.DisposeAsync();
        }
    }

    private static async Task ServeUntilStoppedAsync(Pooler pooler, string path, ILogger log, CancellationToken cancellationToken)
    {
        var stop = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.TrySetResult(false);
        });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            stop.TrySetResult(true);
        });
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            try
            {
                pooler.ReloadFromSource();
                log.LogInformation("SIGHUP: reloaded {Path}", path);
            }
            catch (PoolerConfigurationException e)
            {
                log.LogError("SIGHUP: reload failed, the previous settings stay in force: {Message}", e.Message);
            }
        });
        using var registration = cancellationToken.Register(() => stop.TrySetResult(false));

        var finished = await Task.WhenAny(stop.Task, pooler.Stopped);
        if (finished == pooler.Stopped)
        {
            log.LogInformation("SHUTDOWN from the admin console: stopping");
            return;
        }

        if (await stop.Task)
        {
            // SIGINT: like PgBouncer's safe shutdown, let running transactions finish first (a second signal stops at once).
            log.LogInformation("SIGINT: waiting for running transactions, then stopping (SIGTERM stops at once)");
            var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var again = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                second.TrySetResult();
            });
            await Task.WhenAny(pooler.PauseAsync(cancellationToken: cancellationToken), second.Task);
        }

        log.LogInformation("stopping");
    }
}
