using Microsoft.Extensions.Logging;

namespace PgGate.Pooling;

public sealed partial class Pooler
{
    [LoggerMessage(1, LogLevel.Debug, "pooler: server connection to {Backend} database {Database} user {User} opened (pid {ProcessId})")]
    private partial void LogServerOpened(string backend, string database, string user, int processId);

    [LoggerMessage(2, LogLevel.Debug, "pooler: server connection to {Backend} database {Database} user {User} (pid {ProcessId}) closed: {Reason}")]
    private partial void LogServerClosed(string backend, string database, string user, int processId, string reason);

    [LoggerMessage(3, LogLevel.Warning, "pooler: login to {Backend} database {Database} as {User} failed: {Message}")]
    private partial void LogServerLoginFailed(string backend, string database, string user, string message);

    [LoggerMessage(4, LogLevel.Error, "pooler: session of {User}@{Database} failed")]
    private partial void LogSessionCrashed(string user, string database, Exception exception);

    [LoggerMessage(5, LogLevel.Warning, "pooler: cancel request to {Backend} (pid {ProcessId}) failed: {Message}")]
    private partial void LogCancelFailedCore(string backend, int processId, string message);

    [LoggerMessage(6, LogLevel.Error, "pooler: janitor pass failed")]
    private partial void LogJanitorFailed(Exception exception);

    [LoggerMessage(7, LogLevel.Information, "pooler: settings reloaded ({Pools} pools, {Users} users in auth_file)")]
    private partial void LogReloaded(int pools, int users);

    [LoggerMessage(8, LogLevel.Information, "pooler: opening {Count} server connection(s) to {Backend} database {Database} user {User} ahead of its promotion")]
    private partial void LogPrewarming(int count, string backend, string database, string user);
}
