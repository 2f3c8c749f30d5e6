using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Npgsql;

namespace PgGate.IntegrationTests.Failover;

/// <summary>Where a load goes: a service address (PgGate's or HAProxy's) and the credentials.</summary>
public sealed record LoadTarget(string Host, int WritePort, int ReadPort, string User, string Password, string Database = "test");

/// <summary>
/// A steady mixed load through a service layer, the way an application sees a failover: writers insert one row every
/// <see cref="Interval"/> through the primary service (autocommit, client-chosen ids, so acknowledged rows can be
/// looked up afterwards), readers query the replica service, and idle clients hold a connection open between
/// transactions. A broken connection is counted as dropped and reopened on the next tick; every failed statement or
/// connect is a failed transaction.
/// </summary>
public sealed class FailoverLoad : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    private readonly LoadTarget _target;
    private readonly int _writers;
    private readonly int _readers;
    private readonly int _idle;
    private readonly string _table;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly List<NpgsqlConnection> _idleConnections = [];
    private long _nextId;

    public FailoverLoad(LoadTarget target, string table, int writers = 2, int readers = 1, int idle = 4)
    {
        _target = target;
        _table = table;
        _writers = writers;
        _readers = readers;
        _idle = idle;
    }

    /// <summary>Every acknowledged write: id, when it was acknowledged (Stopwatch timestamp), and the server that took it.</summary>
    public ConcurrentQueue<(long Id, long AckedAt, string Server)> Acked { get; } = new();

    /// <summary>Failed writes with when they failed, and why.</summary>
    public ConcurrentQueue<(long At, string Error)> WriteFailures { get; } = new();

    public ConcurrentQueue<(long At, string Error)> ReadFailures { get; } = new();

    /// <summary>Connections that broke under a writer or reader (each is reopened).</summary>
    public int DroppedConnections => Volatile.Read(ref _dropped);

    private int _dropped;
    private long _longestWriteTicks;
    private long _reads;

    /// <summary>Longest time one write took, successful or not (a write hung on a dead server shows here).</summary>
    public TimeSpan LongestWrite => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _longestWriteTicks));

    public long Reads => Interlocked.Read(ref _reads);

    public string ConnectionString(int port) => new NpgsqlConnectionStringBuilder
    {
        Host = _target.Host,
        Port = port,
        Username = _target.User,
        Password = _target.Password,
        Database = _target.Database,
        Pooling = false,
        Timeout = 5,
        CommandTimeout = 15,
        NoResetOnClose = true,
    }.ConnectionString;

    /// <summary>Creates the table (through the write service), opens the idle clients and starts the loops.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using (var c = new NpgsqlConnection(ConnectionString(_target.WritePort)))
        {
            await c.OpenAsync(cancellationToken);
            await using var cmd = new NpgsqlCommand(
                $"CREATE TABLE IF NOT EXISTS {_table} (id bigint PRIMARY KEY, writer int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp()); TRUNCATE {_table}", c);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        for (var i = 0; i < _idle; i++)
        {
            var c = new NpgsqlConnection(ConnectionString(_target.WritePort));
            await c.OpenAsync(cancellationToken);
            await using (var cmd = new NpgsqlCommand("SELECT 1", c))
                await cmd.ExecuteScalarAsync(cancellationToken);
            _idleConnections.Add(c);
        }
        for (var i = 0; i < _writers; i++)
        {
            var writer = i;
            _loops.Add(Task.Run(() => WriteLoopAsync(writer, _stop.Token), CancellationToken.None));
        }
        for (var i = 0; i < _readers; i++)
            _loops.Add(Task.Run(() => ReadLoopAsync(_stop.Token), CancellationToken.None));
    }

    /// <summary>
    /// Waits until <paramref name="count"/> writes are acknowledged after <paramref name="since"/> (a Stopwatch timestamp);
    /// returns the timestamp of the first of them.
    /// </summary>
    public async Task<long> WaitForWriteAfterAsync(long since, TimeSpan timeout, CancellationToken cancellationToken, string? server = null, int count = 1)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var seen = 0;
            long first = long.MaxValue;
            foreach (var a in Acked)
            {
                if (a.AckedAt >= since && (server is null || a.Server == server))
                {
                    seen++;
                    first = Math.Min(first, a.AckedAt);
                }
            }
            if (seen >= count)
                return first;
            if (Stopwatch.GetTimestamp() > deadline)
                throw new TimeoutException($"{seen} of {count} write(s) acknowledged through {_target.Host}:{_target.WritePort} within {timeout.TotalSeconds:0} s " +
                    $"(last failures: {string.Join(" | ", WriteFailures.TakeLast(3).Select(f => f.Error))})");
            await Task.Delay(10, cancellationToken);
        }
    }

    /// <summary>Stops the loops, then runs one statement on each idle client; returns how many of them were dropped.</summary>
    public async Task<int> StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
        var dropped = 0;
        foreach (var c in _idleConnections)
        {
            try
            {
                await using var cmd = new NpgsqlCommand("SELECT 1", c);
                await cmd.ExecuteScalarAsync();
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException)
            {
                dropped++;
            }
        }
        return dropped;
    }

    /// <summary>Acknowledged ids that <paramref name="primaryConnectionString"/> (the new primary, directly) does not have.</summary>
    public async Task<List<long>> MissingOnAsync(string primaryConnectionString, CancellationToken cancellationToken)
    {
        var present = new HashSet<long>();
        await using var c = new NpgsqlConnection(primaryConnectionString);
        await c.OpenAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand($"SELECT id FROM {_table}", c);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            present.Add(reader.GetInt64(0));
        return [.. Acked.Select(a => a.Id).Where(id => !present.Contains(id)).Order()];
    }

    private async Task WriteLoopAsync(int writer, CancellationToken stop)
    {
        NpgsqlConnection? connection = null;
        var next = Stopwatch.GetTimestamp();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var id = Interlocked.Increment(ref _nextId);
                var started = Stopwatch.GetTimestamp();
                var opened = connection is not null;
                try
                {
                    if (connection is null)
                    {
                        connection = new NpgsqlConnection(ConnectionString(_target.WritePort));
                        await connection.OpenAsync(stop);
                    }
                    await using var cmd = new NpgsqlCommand($"INSERT INTO {_table} (id, writer) VALUES ($1, $2) RETURNING inet_server_addr()::text", connection);
                    cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
                    cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = writer });
                    var server = (string?)await cmd.ExecuteScalarAsync(stop) ?? "";
                    Acked.Enqueue((id, Stopwatch.GetTimestamp(), StripMask(server)));
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
                {
                    WriteFailures.Enqueue((Stopwatch.GetTimestamp(), e.Message));
                    if (connection is not null && connection.FullState != System.Data.ConnectionState.Open)
                    {
                        // A connection that was serving us broke; one that never opened was a failed connect (already a failed write).
                        if (opened)
                            Interlocked.Increment(ref _dropped);
                        await connection.DisposeAsync();
                        connection = null;
                    }
                }
                Max(ref _longestWriteTicks, Stopwatch.GetTimestamp() - started);
                next = await TickAsync(next, stop);
            }
        }
        finally
        {
            if (connection is not null)
                await connection.DisposeAsync();
        }
    }

    private async Task ReadLoopAsync(CancellationToken stop)
    {
        NpgsqlConnection? connection = null;
        var next = Stopwatch.GetTimestamp();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var opened = connection is not null;
                try
                {
                    if (connection is null)
                    {
                        connection = new NpgsqlConnection(ConnectionString(_target.ReadPort));
                        await connection.OpenAsync(stop);
                    }
                    await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM {_table} WHERE id > $1", connection);
                    cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Math.Max(0, Interlocked.Read(ref _nextId) - 20) });
                    await cmd.ExecuteScalarAsync(stop);
                    Interlocked.Increment(ref _reads);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
                {
                    ReadFailures.Enqueue((Stopwatch.GetTimestamp(), e.Message));
                    if (connection is not null && connection.FullState != System.Data.ConnectionState.Open)
                    {
                        if (opened)
                            Interlocked.Increment(ref _dropped);
                        await connection.DisposeAsync();
                        connection = null;
                    }
                }
                next = await TickAsync(next, stop);
            }
        }
        finally
        {
            if (connection is not null)
                await connection.DisposeAsync();
        }
    }

    private static async Task<long> TickAsync(long next, CancellationToken stop)
    {
        next += (long)(Interval.TotalSeconds * Stopwatch.Frequency);
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
        if (wait > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(wait, stop);
            }
            catch (OperationCanceledException)
            {
                // Stopping.
            }
        }
        else
        {
            next = Stopwatch.GetTimestamp();
        }
        return next;
    }

    private static void Max(ref long field, long value)
    {
        var current = Interlocked.Read(ref field);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref field, value, current);
            if (seen == current)
                return;
            current = seen;
        }
    }

    private static string StripMask(string address)
    {
        var slash = address.IndexOf('/', StringComparison.Ordinal);
        var a = slash < 0 ? address : address[..slash];
        return IPAddress.TryParse(a, out var ip) ? ip.ToString() : a;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
            await StopAsync();
        foreach (var c in _idleConnections)
            await c.DisposeAsync();
        _stop.Dispose();
    }
}
