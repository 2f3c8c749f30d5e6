using System.Diagnostics;
using System.Text;

namespace PgGate.Sandbox.Patroni;

/// <summary>
/// A long-running server (etcd, Patroni) started directly as this process's child, so its PID is the server's own
/// and signals reach it: as the PostgreSQL OS user through <c>setpriv</c> (which execs, unlike <c>runuser</c>, which
/// forks and waits) when this process is root. Its stdout and stderr go to a log file, appended as they come.
/// </summary>
internal sealed class DaemonProcess : IAsyncDisposable
{
    private static readonly string[] SetprivLocations = ["/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/setpriv"];

    private readonly Process _process;
    private readonly FileStream _log;
    private readonly SemaphoreSlim _logLock = new(1, 1);
    private readonly Task _pumps;

    private DaemonProcess(Process process, FileStream log, string name, string commandLine, string logFile)
    {
        _process = process;
        _log = log;
        Name = name;
        CommandLine = commandLine;
        LogFile = logFile;
        Pid = process.Id;
        _pumps = Task.WhenAll(
            PumpAsync(process.StandardOutput.BaseStream),
            PumpAsync(process.StandardError.BaseStream));
    }

    public string Name { get; }

    public int Pid { get; }

    public string CommandLine { get; }

    public string LogFile { get; }

    /// <summary>True once the process has exited (this process reaps it: no zombie lingers).</summary>
    public bool HasExited
    {
        get
        {
            try
            {
                return _process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return true;
            }
        }
    }

    public int? ExitCode => HasExited ? _process.ExitCode : null;

    /// <summary>Starts <paramref name="executable"/> with its working directory in <paramref name="workingDirectory"/>
    /// (so the sandbox's sweeper, which finds processes by working directory, finds it too).</summary>
    public static DaemonProcess Start(
        string name,
        string executable,
        IReadOnlyList<string> arguments,
        string workingDirectory,
        string logFile,
        OsUser? runAs,
        IReadOnlyDictionary<string, string?> environment)
    {
        var startInfo = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        if (runAs is { SwitchesUser: true })
        {
            var setpriv = Array.Find(SetprivLocations, File.Exists) ?? throw new SandboxException(
                $"This process runs as root, so {name} must run as OS user {runAs.Name} through setpriv, which was not found " +
                $"(looked in {string.Join(", ", SetprivLocations)}). Install util-linux (`apt-get install -y util-linux`).");
            startInfo.FileName = setpriv;
            foreach (var option in (string[])[$"--reuid={runAs.Name}", $"--regid={runAs.Name}", "--init-groups", "--"])
                startInfo.ArgumentList.Add(option);
            startInfo.ArgumentList.Add(executable);
        }
        else
        {
            startInfo.FileName = executable;
        }
        foreach (var argument in arguments)
            startInfo.ArgumentList.Add(argument);
        foreach (var (key, value) in environment)
        {
            if (value is null)
                startInfo.Environment.Remove(key);
            else
                startInfo.Environment[key] = value;
        }

        var commandLine = CommandRunner.Display(startInfo);
        var log = new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        var header = Encoding.UTF8.GetBytes($"---- {DateTime.Now:yyyy-MM-dd HH:mm:ss.fff} PgGate sandbox starts: {commandLine}\n");
        log.Write(header);
        log.Flush();
        var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            log.Dispose();
            process.Dispose();
            throw new SandboxException($"Could not start {name}: `{commandLine}`: {e.Message}.", e);
        }

        process.StandardInput.Close();
        return new DaemonProcess(process, log, name, commandLine, logFile);
    }

    public void Signal(int signal)
    {
        if (!HasExited)
            _ = NativeMethods.Kill(Pid, signal);
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return HasExited;
        }
    }

    /// <summary>SIGTERM, then SIGKILL when it has not exited within <paramref name="grace"/>. True when it exited in grace.</summary>
    public async Task<bool> StopAsync(TimeSpan grace)
    {
        Signal(PatroniNative.SigTerm);
        if (await WaitForExitAsync(grace).ConfigureAwait(false))
            return true;
        Signal(NativeMethods.SigKill);
        if (!await WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false))
            throw new SandboxException($"{Name} (PID {Pid}) is still alive 10 s after SIGKILL.");
        return false;
    }

    public async Task KillAsync()
    {
        Signal(NativeMethods.SigKill);
        if (!await WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false))
            throw new SandboxException($"{Name} (PID {Pid}) is still alive 10 s after SIGKILL.");
    }

    public async ValueTask DisposeAsync()
    {
        if (!HasExited)
            await KillAsync().ConfigureAwait(false);

        // Grandchildren (a postmaster Patroni started) may hold the pipes open; do not wait for them.
        await _pumps.WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _logLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await _log.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _logLock.Release();
        }
        _process.Dispose();
    }

    private async Task PumpAsync(Stream output)
    {
        var buffer = new byte[8192];
        try
        {
            while (true)
            {
                var read = await output.ReadAsync(buffer).ConfigureAwait(false);
                if (read == 0)
                    return;
                await _logLock.WaitAsync().ConfigureAwait(false);
                try
                {
                    if (!_log.SafeFileHandle.IsClosed)
                    {
                        await _log.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
                        await _log.FlushAsync().ConfigureAwait(false);
                    }
                }
                finally
                {
                    _logLock.Release();
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The log closed under us at disposal, or the pipe broke: nothing more to record.
        }
    }
}
