using Microsoft.Extensions.Logging;

namespace PgGate.Sandbox.Patroni;

/// <summary>What the Patroni sandbox logs; timings are in the messages because they are what a slow test run needs.</summary>
internal static partial class PatroniSandboxLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Patroni sandbox: etcd {Name} up on {Url} (PID {Pid}) in {Elapsed} ms")]
    public static partial void EtcdStarted(ILogger logger, string name, string url, int pid, long elapsed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Patroni sandbox: etcd {Name} stopped by {Signal}")]
    public static partial void EtcdStopped(ILogger logger, string name, string signal);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Patroni sandbox: cluster {Cluster} up in {Elapsed} ms (leader {Leader} after {LeaderElapsed} ms; Patroni {Version}, timers {Timers}) under {Directory}")]
    public static partial void ClusterStarted(ILogger logger, string cluster, long elapsed, string leader, long leaderElapsed, string version, string timers, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Patroni sandbox: Patroni {Member} started (PID {Pid})")]
    public static partial void PatroniStarted(ILogger logger, string member, int pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Patroni sandbox: {Operation} {Member} ({Detail}) in {Elapsed} ms")]
    public static partial void MemberOperation(ILogger logger, string operation, string member, string detail, long elapsed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Patroni sandbox: cluster {Cluster} stopped and removed in {Elapsed} ms")]
    public static partial void ClusterDisposed(ILogger logger, string cluster, long elapsed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Patroni sandbox: {Member} did not stop on SIGTERM within {Seconds} s; killed it")]
    public static partial void StopEscalated(ILogger logger, string member, int seconds);
}
