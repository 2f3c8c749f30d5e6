using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PgGate.Cluster.Dcs;

namespace PgGate.Sandbox.Patroni;

/// <summary>
/// One etcd server (a single-member cluster) on a loopback address, for the Patroni sandbox and for tests of the DCS
/// watch. It can be stopped, killed and started again on the same data, as an etcd outage. Disposing stops it by PID
/// and deletes its directory when it made the directory itself.
/// </summary>
public sealed class EtcdServer : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly bool _ownsDirectory;
    private readonly string _token;
    private readonly EventHandler? _onProcessExit;
    private DaemonProcess? _process;
    private int _disposed;

    private EtcdServer(EtcdServerOptions options, PatroniTools tools, string directory, bool ownsDirectory, ILogger logger)
    {
        Options = options;
        Tools = tools;
        Directory = directory;
        _ownsDirectory = ownsDirectory;
        _logger = logger;
        _token = "pggate-" + Path.GetFileName(directory);
        if (ownsDirectory)
            _onProcessExit = (_, _) => EmergencyCleanup();
    }

    public EtcdServerOptions Options { get; }

    public string Directory { get; }

    public string DataDirectory => Path.Combine(Directory, "data");

    /// <summary>etcd's own log (its stderr).</summary>
    public string LogFile => Path.Combine(Directory, "etcd.log");

    /// <summary><c>http://127.0.0.40:2379</c> (https with TLS options).</summary>
    public string ClientUrl => Options.ClientUrl;

    public int? Pid => _process is { HasExited: false } p ? p.Pid : null;

    public bool IsRunning => Pid is not null;

    internal PatroniTools Tools { get; }

    /// <summary>Starts etcd in a directory of its own and returns once it answers <c>/health</c>.</summary>
    public static async Task<EtcdServer> StartAsync(EtcdServerOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        options ??= new EtcdServerOptions();
        logger ??= NullLogger.Instance;
        var tools = PatroniTools.Find();
        await Task.Run(() => LeftoverSweeper.Sweep(logger), cancellationToken).ConfigureAwait(false);
        var ownsDirectory = options.Directory is null;
        var directory = options.Directory ?? NativeMethods.ResolvePath(SandboxDirectories.CreateUnique("etcd"));
        System.IO.Directory.CreateDirectory(directory);
        if (ownsDirectory)
            SandboxOwner.Current.WriteTo(directory);
        var server = new EtcdServer(options, tools, directory, ownsDirectory, logger);
        if (server._onProcessExit is not null)
            AppDomain.CurrentDomain.ProcessExit += server._onProcessExit;
        try
        {
            await server.StartAgainAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return server;
    }

    internal static EtcdServer CreateIn(EtcdServerOptions options, PatroniTools tools, string directory, ILogger logger)
    {
        System.IO.Directory.CreateDirectory(directory);
        return new EtcdServer(options, tools, directory, ownsDirectory: false, logger);
    }

    /// <summary>Starts the server (again, on its existing data after a stop or kill) and waits until it is healthy.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (IsRunning)
            return;
        if (_process is not null)
        {
            await _process.DisposeAsync().ConfigureAwait(false);
            _process = null;
        }

        var stopwatch = Stopwatch.StartNew();
        var address = IPAddress.Parse(Options.Host);
        await AddressGuard.EnsureFreeAsync(Options.Name, address, Options.ClientPort, _logger, cancellationToken).ConfigureAwait(false);
        await AddressGuard.EnsureFreeAsync(Options.Name, address, Options.PeerPort, _logger, cancellationToken).ConfigureAwait(false);
        var arguments = new List<string>
        {
            "--name", Options.Name,
            "--data-dir", DataDirectory,
            "--listen-client-urls", ClientUrl,
            "--advertise-client-urls", ClientUrl,
            "--listen-peer-urls", Options.PeerUrl,
            "--initial-advertise-peer-urls", Options.PeerUrl,
            "--initial-cluster", $"{Options.Name}={Options.PeerUrl}",
            "--initial-cluster-state", "new",
            "--initial-cluster-token", _token,
            "--logger", "zap",
            "--log-outputs", "stderr",
        };
        if (Options.Tls)
        {
            arguments.AddRange(["--cert-file", Options.CertFile!, "--key-file", Options.KeyFile!]);
            if (Options.TrustedCaFile is not null)
                arguments.AddRange(["--trusted-ca-file", Options.TrustedCaFile, "--client-cert-auth"]);
        }

        _process = DaemonProcess.Start($"etcd {Options.Name}", Tools.Etcd, arguments, Directory, LogFile, runAs: null,
            new Dictionary<string, string?> { ["ETCD_UNSUPPORTED_ARCH"] = null, ["ETCDCTL_API"] = null });
        await Waiting.UntilAsync(
            IsHealthyAsync,
            Options.StepTimeout,
            error => $"etcd {Options.Name} did not become healthy on {ClientUrl} within {Options.StepTimeout.TotalSeconds:0} s" +
                (error is null ? "." : $" (last error: {error}).") + Tail(),
            cancellationToken).ConfigureAwait(false);
        PatroniSandboxLog.EtcdStarted(_logger, Options.Name, ClientUrl, _process.Pid, stopwatch.ElapsedMilliseconds);
    }

    /// <summary>Stops etcd with SIGTERM (SIGKILL after 10 s), as an orderly outage.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            await process.StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            PatroniSandboxLog.EtcdStopped(_logger, Options.Name, "SIGTERM");
        }
    }

    /// <summary>SIGKILLs etcd: a crash.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            await process.KillAsync().ConfigureAwait(false);
            PatroniSandboxLog.EtcdStopped(_logger, Options.Name, "SIGKILL");
        }
    }

    /// <summary>Runs <c>etcdctl</c> against this server (with its TLS files, when any) and returns its stdout; throws with
    /// the command and its stderr when it fails.</summary>
    public async Task<string> EtcdctlAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(Tools.Etcdctl)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = Directory,
        };
        startInfo.ArgumentList.Add("--endpoints=" + ClientUrl);
        if (Options.TrustedCaFile is not null)
            startInfo.ArgumentList.Add("--cacert=" + Options.TrustedCaFile);
        if (Options.Tls && Options.TrustedCaFile is not null)
        {
            // etcd demands a client certificate; the server's own pair is signed by the same CA (etcdctl speaks gRPC,
            // where the gateway's CommonName rule does not apply).
            startInfo.ArgumentList.Add("--cert=" + Options.CertFile);
            startInfo.ArgumentList.Add("--key=" + Options.KeyFile);
        }
        foreach (var argument in arguments)
            startInfo.ArgumentList.Add(argument);
        startInfo.Environment["ETCDCTL_API"] = "3";
        var commandLine = CommandRunner.Display(startInfo);
        using var process = Process.Start(startInfo) ?? throw new SandboxException($"Could not run `{commandLine}`.");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        var stopwatch = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Options.StepTimeout);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            timedOut = true;
        }
        var result = new CommandResult(commandLine, timedOut ? -1 : process.ExitCode, timedOut, await output.ConfigureAwait(false),
            await error.ConfigureAwait(false), stopwatch.Elapsed);
        result.ThrowIfFailed("run etcdctl against " + ClientUrl);
        return result.StandardOutput.TrimEnd('\n');
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        if (_onProcessExit is not null)
            AppDomain.CurrentDomain.ProcessExit -= _onProcessExit;
        if (_process is not null)
        {
            if (!_process.HasExited)
                await _process.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            await _process.DisposeAsync().ConfigureAwait(false);
        }
        if (_ownsDirectory)
        {
            await Task.Run(() =>
            {
                ProcessReaper.EndAllUsing(Directory, TimeSpan.FromSeconds(2));
                LeftoverSweeper.DeleteDirectory(Directory, _logger);
            }).ConfigureAwait(false);
        }
    }

    internal void EmergencyCleanup()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        if (_process is { HasExited: false } process)
            _ = NativeMethods.Kill(process.Pid, NativeMethods.SigKill);
        if (_ownsDirectory)
        {
            ProcessReaper.EndAllUsing(Directory, TimeSpan.FromSeconds(2));
            LeftoverSweeper.DeleteDirectory(Directory, _logger);
        }
    }

    private async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        if (_process is null || _process.HasExited)
        {
            throw new SandboxException(
                $"etcd {Options.Name} exited with code {_process?.ExitCode} while starting (`{_process?.CommandLine}`)." + Tail());
        }
        using var http = EtcdConnection.CreateHttpClient(Options.TrustedCaFile, Options.TrustedCaFile is null ? null : Options.CertFile,
            Options.TrustedCaFile is null ? null : Options.KeyFile, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            var body = await http.GetStringAsync(new Uri(ClientUrl + "/health"), deadline.Token).ConfigureAwait(false);
            return body.Contains("\"health\":\"true\"", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new SandboxException(e.Message);
        }
    }

    private string Tail() => $"\nlast lines of {LogFile}:\n  " + LogTail.Read(LogFile, 15).Replace("\n", "\n  ", StringComparison.Ordinal);
}
