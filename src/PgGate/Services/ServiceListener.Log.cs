using Microsoft.Extensions.Logging;

namespace PgGate.Services;

public sealed partial class ServiceListener
{
    [LoggerMessage(20, LogLevel.Warning, "service {Service}: cannot connect to {Server}: {Error}")]
    private partial void LogConnectFailed(string service, string server, string error);

    [LoggerMessage(21, LogLevel.Warning, "service {Service}: accept failed ({Error}); backing off")]
    private partial void LogAcceptPressure(string service, string error);

    [LoggerMessage(22, LogLevel.Error, "service {Service}: session failed")]
    private partial void LogSessionFailed(string service, Exception ex);
}
