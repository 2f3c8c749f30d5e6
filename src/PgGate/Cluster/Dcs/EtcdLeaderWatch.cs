using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace PgGate.Cluster.Dcs;

/// <summary>
/// Follows Patroni's leader key (<c>/&lt;namespace&gt;/&lt;scope&gt;/leader</c>) in etcd through the v3 JSON gateway, as
/// vip-manager does: a range read for the value and its revision, then a watch from the next revision, so no change
/// between the two is lost. Every change is reported through <see cref="Changed"/> the moment etcd streams it: a new
/// leader, the key's deletion (Patroni released it, or its lease expired because the leader's node died), and losing
/// or regaining etcd. When the stream breaks or an endpoint fails, the watch moves to the next endpoint, reads the key
/// again and watches anew; after every endpoint failed once it backs off (<see cref="EtcdLeaderWatchOptions.MinBackoff"/>
/// doubling to <see cref="EtcdLeaderWatchOptions.MaxBackoff"/>, timed by the <see cref="TimeProvider"/>).
/// </summary>
public sealed partial class EtcdLeaderWatch : IAsyncDisposable
{
    private readonly EtcdLeaderWatchOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Uri[] _endpoints;
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _startLock = new();
    private Task? _loop;
    private volatile LeaderKeyState _current;
    private bool _established;
    private int _disposed;

    public EtcdLeaderWatch(EtcdLeaderWatchOptions options, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _endpoints = new Uri[options.Endpoints.Count];
        for (var i = 0; i < _endpoints.Length; i++)
            _endpoints[i] = EtcdEndpoints.Parse(options.Endpoints[i], options.CaFile is not null);
        Key = options.LeaderKey;
        _http = EtcdConnection.CreateHttpClient(options.CaFile, options.CertFile, options.KeyFile, options.RequestTimeout, options.KeepAliveTime);
        _current = new LeaderKeyState { Key = Key, Error = "not connected yet", ObservedAt = _time.GetUtcNow(), ObservedTimestamp = _time.GetTimestamp() };
    }

    /// <summary>The watched key, e.g. <c>/pg/pg-test/leader</c>.</summary>
    public string Key { get; }

    /// <summary>The newest state; replaced (never mutated) on every change.</summary>
    public LeaderKeyState Current => _current;

    /// <summary>
    /// Raised on the watch's own task, one call at a time and in etcd's order, for every watch event on the key, for a
    /// read that differs from what was last reported, and when etcd is lost (once per outage). Handlers must return
    /// quickly (hand work to another thread); an exception from a handler is logged and does not stop the watch.
    /// </summary>
    public event Action<LeaderKeyState>? Changed;

    // Every new state, news or not (a re-read confirming the leader moves the revision), for waiters.
    private event Action<LeaderKeyState>? Updated;

    /// <summary>Starts watching in the background; subscribe to <see cref="Changed"/> first to see the initial read.</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        lock (_startLock)
            _loop ??= Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>Waits until <see cref="Current"/> satisfies <paramref name="condition"/> (checked on every new state, reported or
    /// not); throws <see cref="TimeoutException"/> naming the last state when the timeout passes first.</summary>
    public async Task<LeaderKeyState> WaitForAsync(Func<LeaderKeyState, bool> condition, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var reached = new TaskCompletionSource<LeaderKeyState>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(LeaderKeyState state)
        {
            if (condition(state))
                reached.TrySetResult(state);
        }

        Updated += OnChanged;
        try
        {
            var now = _current;
            if (condition(now))
                return now;
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            try
            {
                return await reached.Task.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"etcd key {Key}: condition not reached within {timeout.TotalSeconds:0.###} s; last: {_current}");
            }
        }
        finally
        {
            Updated -= OnChanged;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _stop.CancelAsync().ConfigureAwait(false);
        Task? loop;
        lock (_startLock)
            loop = _loop;
        if (loop is not null)
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _http.Dispose();
        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var index = 0;
        var failuresInRow = 0;
        while (!stop.IsCancellationRequested)
        {
            var endpoint = _endpoints[index];
            _established = false;
            try
            {
                // Returns when etcd cancelled the watch for a reason a fresh read fixes (compaction): read and watch again.
                await WatchOnceAsync(endpoint, stop).ConfigureAwait(false);
                failuresInRow = 0;
                continue;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                var reason = e is EtcdException ? e.Message : $"etcd at {endpoint}: {e.Message}";
                ReportDisconnected(endpoint, reason);
            }

            // A stream that was up and broke is retried at once on the next endpoint; failures in a row back off
            // once every endpoint has had its chance.
            failuresInRow = _established ? 0 : failuresInRow + 1;
            index = (index + 1) % _endpoints.Length;
            if (failuresInRow > 0 && failuresInRow % _endpoints.Length == 0)
            {
                var rounds = failuresInRow / _endpoints.Length;
                try
                {
                    await Task.Delay(Backoff(rounds), _time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    internal TimeSpan Backoff(int failedRounds)
    {
        var delay = _options.MinBackoff;
        for (var i = 1; i < failedRounds && delay < _options.MaxBackoff; i++)
            delay *= 2;
        return delay < _options.MaxBackoff ? delay : _options.MaxBackoff;
    }

    private async Task WatchOnceAsync(Uri endpoint, CancellationToken stop)
    {
        var password = _options.Username is null ? null : _options.Password.Resolve();
        var connection = await EtcdConnection.OpenAsync(_http, endpoint, _options.Username, password, _options.RequestTimeout, stop)
            .ConfigureAwait(false);
        var read = await connection.RangeAsync(Key, stop).ConfigureAwait(false);
        Report(LeaderKeyChange.Read, read.Value, read.Revision, endpoint);

        using var response = await connection.WatchAsync(Key, read.Revision + 1, stop).ConfigureAwait(false);
        var body = await response.Content.ReadAsStreamAsync(stop).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            var objects = new JsonObjectStream(body);
            while (true)
            {
                var bytes = await objects.ReadObjectAsync(stop).ConfigureAwait(false);
                if (bytes.IsEmpty)
                    throw new EtcdException($"etcd at {endpoint} closed the watch on {Key}");
                if (!HandleWatchResponse(connection, endpoint, bytes))
                    return;
            }
        }
    }

    // False when etcd cancelled the watch and a fresh read is needed.
    private bool HandleWatchResponse(EtcdConnection connection, Uri endpoint, ReadOnlyMemory<byte> bytes)
    {
        using var document = JsonDocument.Parse(bytes);
        var root = document.RootElement;
        connection.ThrowIfError(root, "watch on " + Key);
        if (!root.TryGetProperty("result", out var result) || result.ValueKind != JsonValueKind.Object)
            return true;

        if (result.TryGetProperty("created", out var created) && created.ValueKind == JsonValueKind.True && !_established)
        {
            _established = true;
            LogWatching(Key, endpoint.ToString(), EtcdConnection.HeaderRevision(result));
        }

        if (result.TryGetProperty("canceled", out var canceled) && canceled.ValueKind == JsonValueKind.True)
        {
            var compacted = EtcdConnection.Int64(result, "compact_revision");
            if (compacted > 0)
            {
                // The revision we asked for is gone; the key's current value is all that matters, so read it again.
                LogCompacted(Key, compacted);
                return false;
            }
            var reason = result.TryGetProperty("cancel_reason", out var why) ? why.GetString() : null;
            throw new EtcdException($"etcd at {endpoint} cancelled the watch on {Key}: {reason ?? "no reason given"}");
        }

        if (result.TryGetProperty("events", out var events) && events.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in events.EnumerateArray())
            {
                if (!e.TryGetProperty("kv", out var kv) || EtcdConnection.DecodeKey(kv) != Key)
                    continue;
                var deleted = e.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "DELETE";
                var revision = EtcdConnection.Int64(kv, "mod_revision");
                if (deleted)
                    Report(LeaderKeyChange.Delete, null, revision, endpoint);
                else
                    Report(LeaderKeyChange.Put, EtcdConnection.DecodeValue(kv), revision, endpoint);
            }
        }
        return true;
    }

    private void Report(LeaderKeyChange change, string? leader, long revision, Uri endpoint)
    {
        var previous = _current;
        var state = new LeaderKeyState
        {
            Key = Key,
            Leader = leader,
            IsCurrent = true,
            Revision = revision,
            Change = change,
            Endpoint = endpoint.ToString(),
            ObservedAt = _time.GetUtcNow(),
            ObservedTimestamp = _time.GetTimestamp(),
        };
        _current = state;
        Raise(Updated, state);

        // A read that confirms what was reported (a reconnect with nothing changed) is not news.
        if (change == LeaderKeyChange.Read && previous.IsCurrent && previous.Leader == leader)
            return;
        if (previous.Leader != leader || !previous.IsCurrent)
            LogLeader(Key, leader ?? "(none)", revision, change.ToString());
        Raise(Changed, state);
    }

    private void ReportDisconnected(Uri endpoint, string error)
    {
        var previous = _current;
        var state = previous with
        {
            IsCurrent = false,
            Change = LeaderKeyChange.Disconnected,
            Endpoint = endpoint.ToString(),
            Error = error,
            ObservedAt = _time.GetUtcNow(),
            ObservedTimestamp = _time.GetTimestamp(),
        };
        _current = state;
        Raise(Updated, state);
        LogDisconnected(Key, error);
        if (previous.IsCurrent || previous.Change == LeaderKeyChange.None)
            Raise(Changed, state);
    }

    private void Raise(Action<LeaderKeyState>? handlers, LeaderKeyState state)
    {
        if (handlers is null)
            return;
        foreach (var handler in handlers.GetInvocationList())
        {
            try
            {
                ((Action<LeaderKeyState>)handler)(state);
            }
            catch (Exception e)
            {
                LogHandlerFailed(e, Key);
            }
        }
    }
}
