using Microsoft.Extensions.Logging;

namespace PgGate.Cluster;

public sealed partial class ClusterMonitor
{
    [LoggerMessage(1, LogLevel.Information, "{Member} check {Check}: {From} -> {To} ({Facts})")]
    private partial void LogCheckChanged(string member, string check, string from, string to, string facts);

    [LoggerMessage(2, LogLevel.Information, "{Member}: {From} -> {To}")]
    private partial void LogFactsChanged(string member, string from, string to);

    [LoggerMessage(4, LogLevel.Information, "cluster {Cluster}: DCS {State}")]
    private partial void LogLeaderKey(string cluster, string state);

    [LoggerMessage(5, LogLevel.Warning, "{Member}: the monitor user may not log in ({Error}); new leaders are confirmed through Patroni only (docs/operations.md, Failover: pg_hba.conf)")]
    private partial void LogRoleProbeRefused(string member, string error);

    [LoggerMessage(6, LogLevel.Information, "{Member}: its PostgreSQL reports primary {Milliseconds} ms after the leader key named it; it takes writes")]
    private partial void LogConfirmedBySql(string member, long milliseconds);

    [LoggerMessage(7, LogLevel.Debug, "{Member}: PostgreSQL says {Facts}")]
    private partial void LogRoleRead(string member, string facts);

    [LoggerMessage(3, LogLevel.Error, "cluster {Cluster}: {Conflict}")]
    private partial void LogSplitBrain(string cluster, string conflict);
}
