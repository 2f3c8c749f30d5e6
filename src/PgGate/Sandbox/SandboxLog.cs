using Microsoft.Extensions.Logging;

namespace PgGate.Sandbox;

/// <summary>Everything the sandbox logs; timings are in the messages because they are what a slow test run needs.</summary>
internal static partial class SandboxLog
{
    [LoggerMessage(Level = LogLevel.Information,
        Message = "Sandbox: cluster {Cluster} ({Count} members, PostgreSQL {Bin}, OS user {User}) up in {Elapsed} ms under {Directory}")]
    public static partial void ClusterStarted(ILogger logger, string cluster, int count, string bin, string user, long elapsed, string directory);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sandbox: `{Command}` exited with {ExitCode} in {Elapsed} ms")]
    public static partial void CommandFinished(ILogger logger, string command, int exitCode, long elapsed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox: cluster {Cluster} stopped and removed in {Elapsed} ms")]
    public static partial void ClusterDisposed(ILogger logger, string cluster, long elapsed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox: stopping cluster {Cluster} failed; ending its processes by signal")]
    public static partial void ClusterStopFailed(ILogger logger, Exception exception, string cluster);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox: primary {Member} up on {Host}:{Port} in {Elapsed} ms ({Source} {Prepared} ms)")]
    public static partial void PrimaryStarted(ILogger logger, string member, string host, int port, long elapsed, string source, long prepared);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox: replica {Member} cloned and started on {Host}:{Port} in {Elapsed} ms")]
    public static partial void ReplicaStarted(ILogger logger, string member, string host, int port, long elapsed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox: killing {Member} (postmaster PID {Pid}) with SIGKILL")]
    public static partial void Killing(ILogger logger, string member, int pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox: promoted {Member} in {Elapsed} ms")]
    public static partial void Promoted(ILogger logger, string member, long elapsed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox: {Member} rejoined as a replica of {Primary} by {Method} in {Elapsed} ms")]
    public static partial void Rejoined(ILogger logger, string member, string primary, RejoinMethod method, long elapsed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox: {Failure}\nCloning {Member} again instead.")]
    public static partial void RewindFailed(ILogger logger, string failure, string member);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox: {Failure}\nEscalating to {Next} for {Member}.")]
    public static partial void StopEscalated(ILogger logger, string failure, string next, string member);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Sandbox: removing leftover sandbox {Directory} ({Reason}); ending {Count} process(es) still running in it")]
    public static partial void RemovingLeftover(ILogger logger, string directory, string reason, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox: processes in {Directory} did not end; leaving the directory in place")]
    public static partial void LeftoverSurvived(ILogger logger, string directory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox: could not delete sandbox directory {Directory}")]
    public static partial void DeleteFailed(ILogger logger, Exception exception, string directory);
}
