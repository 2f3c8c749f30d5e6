using Microsoft.Extensions.Logging;

namespace PgGate.Services;

public sealed partial class ServiceRouter
{
    [LoggerMessage(10, LogLevel.Information, "service {Service}: {Servers}")]
    private partial void LogServersChanged(string service, string servers);

    [LoggerMessage(11, LogLevel.Warning, "service {Service}: closed {Count} session(s) of {Server}: {Reason}")]
    private partial void LogSessionsShutdown(string service, string server, int count, string reason);

    [LoggerMessage(12, LogLevel.Error, "service {Service}: selector failed on live member facts, keeping the previous servers: {Error}")]
    private partial void LogSelectorFailed(string service, string error);
}
