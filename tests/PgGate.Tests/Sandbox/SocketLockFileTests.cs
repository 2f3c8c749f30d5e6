using System.Diagnostics;
using System.Globalization;
using PgGate.Sandbox;

namespace PgGate.Tests.Sandbox;

/// <summary>
/// A SIGKILLed postmaster leaves <c>.s.PGSQL.5432.lock</c> behind, and until init reaps it the PID inside is a zombie
/// that PostgreSQL's <c>kill(pid, 0)</c> takes for a live postmaster (CI saw "lock file ... already exists").
/// </summary>
public sealed class SocketLockFileTests : IDisposable
{
    private const int Port = 5432;

    private readonly string _directory = Directory.CreateTempSubdirectory("pggate-socket-lock-").FullName;

    private string LockPath => Path.Combine(_directory, ".s.PGSQL.5432.lock");

    [Fact]
    public async Task A_lock_naming_a_zombie_postmaster_is_removed()
    {
        // The shell forks a child that exits a second later, then becomes `sleep`, which never waits for it: a zombie.
        // (A child that exited before the exec would be reaped by the shell itself.)
        using var parent = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "sleep 1 & echo $!; exec sleep 60"])
        {
            RedirectStandardOutput = true,
        })!;
        try
        {
            var zombie = int.Parse(
                (await parent.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken))!,
                CultureInfo.InvariantCulture);
            await WaitUntilAsync(() => ProcFs.State(zombie) == 'Z', TimeSpan.FromSeconds(20));
            WriteLock(zombie);

            PostmasterPidFile.RemoveStaleSocketLock(_directory, Port);

            Assert.False(File.Exists(LockPath), "the lock of a zombie postmaster should be gone");
        }
        finally
        {
            parent.Kill();
            await parent.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public void A_lock_naming_a_live_process_is_kept()
    {
        WriteLock(Environment.ProcessId);

        PostmasterPidFile.RemoveStaleSocketLock(_directory, Port);

        Assert.True(File.Exists(LockPath), "a live postmaster's lock must stay");
    }

    [Fact]
    public void A_missing_lock_is_not_an_error()
    {
        PostmasterPidFile.RemoveStaleSocketLock(_directory, Port);

        Assert.False(File.Exists(LockPath));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    // The layout PostgreSQL writes: PID, data directory, start time, port, socket directory.
    private void WriteLock(int pid) =>
        File.WriteAllText(LockPath, $"{pid}\n/var/lib/postgresql/15/main\n1764133138\n{Port}\n{_directory}\n");

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan bound)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(stopwatch.Elapsed < bound, $"condition not met within {bound.TotalSeconds} s");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
