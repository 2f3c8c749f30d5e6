using System.Globalization;
using PgGate.Config;
using PgGate.Protocol.Client;

namespace PgGate.Cluster;

/// <summary>
/// PgGate's own health probe for clusters with or without Patroni: one query on a kept-open connection
/// as the monitor user reads the live role (<c>pg_is_in_recovery()</c>), WAL positions, timeline and,
/// on the primary, <c>pg_stat_replication</c>. Checks are then evaluated from these facts with
/// Patroni's rules. A probe that fails or exceeds the check timeout closes the connection; the next
/// probe reconnects.
/// </summary>
public sealed class SqlProbe : IMemberProbe
{
    // pg_walfile_name() cannot run during recovery; the CASE keeps it to the primary. The timeline of a
    // replica is what its WAL receiver streams.
    internal const string Query = """
        select r.rec,
               case when r.rec then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end,
               (select latest_end_lsn from pg_stat_wal_receiver),
               case when r.rec then (select received_tli from pg_stat_wal_receiver)
                    else ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int end,
               case when r.rec then null else
                 (select string_agg(application_name || '|' || coalesce(host(client_addr), '') || '|' || coalesce(state, '')
                                    || '|' || coalesce(sync_state, ''), ',') from pg_stat_replication) end
        from (select pg_is_in_recovery() as rec) r
        """;

    private readonly MemberConfig _member;
    private readonly SqlCheckConfig _credentials;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private PgClient? _client;

    public SqlProbe(ClusterConfig cluster, MemberConfig member, TimeSpan timeout, TimeProvider time)
    {
        _member = member;
        _credentials = cluster.Health.Sql;
        _timeout = timeout;
        _time = time;
    }

    public async ValueTask<ProbeResult> ProbeAsync(IReadOnlyList<CheckPath> checks, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(_timeout);
        try
        {
            _client ??= await PgClient.ConnectAsync(new PgClientOptions
            {
                Host = _member.Host,
                Port = _member.PgPort,
                User = _credentials.User,
                Password = _credentials.Password.Resolve(),
                Database = _credentials.Database,
                ApplicationName = "pggate-monitor",
                ConnectTimeout = _timeout,
            }, cts.Token).ConfigureAwait(false);

            var results = await _client.QueryAsync(Query, cts.Token).ConfigureAwait(false);
            return new ProbeResult(Parse(results[0].Rows[0], _time.GetUtcNow()), null);
        }
        catch (Exception ex) when (ex is PgException or OperationCanceledException or IOException or System.Net.Sockets.SocketException)
        {
            await CloseAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            var why = ex switch
            {
                OperationCanceledException => $"no answer within {_timeout.TotalSeconds:0.###}s",
                PgServerException pg => $"{pg.SqlState}: {pg.MessageText}",
                _ => ex.Message,
            };
            // PostgreSQL answered, but refused us (starting up, shutting down, auth): reachable, not running.
            var answered = ex is PgServerException;
            return new ProbeResult(new MemberFacts { Reachable = answered, Error = why, ObservedAt = _time.GetUtcNow() }, null);
        }
    }

    internal static MemberFacts Parse(string?[] row, DateTimeOffset at)
    {
        var inRecovery = row[0] == "t";
        var peers = new List<ReplicationPeer>();
        if (row[4] is { Length: > 0 } list)
        {
            foreach (var item in list.Split(','))
            {
                var f = item.Split('|');
                if (f.Length == 4)
                    peers.Add(new ReplicationPeer(f[0], f[1].Length == 0 ? null : f[1], f[2], f[3]));
            }
        }
        return new MemberFacts
        {
            Reachable = true,
            Running = true,
            Role = inRecovery ? MemberRole.Replica : MemberRole.Primary,
            Lsn = ParseLsn(row[1]),
            ReceivedLsn = ParseLsn(row[2]),
            Timeline = long.TryParse(row[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var tl) ? tl : null,
            Replication = peers,
            ObservedAt = at,
        };
    }

    /// <summary>Parses PostgreSQL's <c>pg_lsn</c> text form, <c>16/B374D848</c>.</summary>
    public static ulong? ParseLsn(string? text)
    {
        if (text is null)
            return null;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0
            || !uint.TryParse(text.AsSpan(0, slash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hi)
            || !uint.TryParse(text.AsSpan(slash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var lo))
            return null;
        return ((ulong)hi << 32) | lo;
    }

    private async ValueTask CloseAsync()
    {
        var c = _client;
        _client = null;
        if (c is not null)
        {
            try
            {
                await c.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is PgException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
            {
            }
        }
    }

    public ValueTask DisposeAsync() => CloseAsync();
}
