using Microsoft.Extensions.Logging;

namespace PgGate.Cluster.Dcs;

public sealed partial class EtcdLeaderWatch
{
    [LoggerMessage(30, LogLevel.Information, "etcd {Key}: {Leader} at revision {Revision} ({Change})")]
    private partial void LogLeader(string key, string leader, long revision, string change);

    [LoggerMessage(31, LogLevel.Information, "etcd {Key}: watching on {Endpoint} from revision {Revision}")]
    private partial void LogWatching(string key, string endpoint, long revision);

    [LoggerMessage(32, LogLevel.Warning, "etcd {Key}: {Error}; reconnecting")]
    private partial void LogDisconnected(string key, string error);

    [LoggerMessage(33, LogLevel.Information, "etcd {Key}: revisions up to {Revision} were compacted; reading the key again")]
    private partial void LogCompacted(string key, long revision);

    [LoggerMessage(34, LogLevel.Error, "etcd {Key}: a leader change handler failed")]
    private partial void LogHandlerFailed(Exception exception, string key);
}
