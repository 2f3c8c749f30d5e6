using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using PgGate.Cluster.Dcs;
using PgGate.Config;

namespace PgGate.Tests.Dcs;

public sealed class EtcdLeaderWatchTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);
    private readonly ConcurrentQueue<LeaderKeyState> _reports = new();
    private FakeEtcd _etcd = null!;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _etcd = await FakeEtcd.StartAsync();

    public async ValueTask DisposeAsync() => await _etcd.DisposeAsync();

    [Fact]
    public async Task Reads_the_key_then_watches_from_the_next_revision_and_reports_puts_and_deletes()
    {
        await using var watch = Start(Options());
        var read = await watch.WaitForAsync(s => s.IsCurrent, Bound, Cancel);
        Assert.Equal(("pg-test-1", 5L, LeaderKeyChange.Read), (read.Leader, read.Revision, read.Change));
        await _etcd.WaitForWatchesAsync(1, Bound);
        Assert.Equal([6L], _etcd.WatchStartRevisions);
        Assert.Equal(["true"], _etcd.HasLeaderHeaders);

        var put = _etcd.Put("pg-test-2");
        var moved = await watch.WaitForAsync(s => s.Revision == put, Bound, Cancel);
        Assert.Equal(("pg-test-2", LeaderKeyChange.Put, true), (moved.Leader, moved.Change, moved.IsCurrent));

        var deleted = _etcd.Delete();
        var gone = await watch.WaitForAsync(s => s.Revision == deleted, Bound, Cancel);
        Assert.Equal((null, LeaderKeyChange.Delete, true), (gone.Leader, gone.Change, gone.IsCurrent));
        Assert.True(gone.IsCurrent);
        Assert.False(gone.IsHeldBy("pg-test-2"));
        Assert.Equal([LeaderKeyChange.Read, LeaderKeyChange.Put, LeaderKeyChange.Delete], _reports.Select(r => r.Change));
        Assert.Equal(1, _etcd.RangeRequests);
    }

    [Fact]
    public async Task A_missing_key_reads_as_no_leader()
    {
        await using var etcd = await FakeEtcd.StartAsync(initialValue: null, initialRevision: 9);
        await using var watch = Start(Options(etcd));
        var read = await watch.WaitForAsync(s => s.IsCurrent, Bound, Cancel);
        Assert.Null(read.Leader);
        Assert.Equal(9, read.Revision);
    }

    [Fact]
    public async Task Objects_split_across_chunks_and_packed_into_one_chunk_are_all_reported_in_order()
    {
        await using var watch = Start(Options());
        await watch.WaitForAsync(s => s.IsCurrent, Bound, Cancel);
        await _etcd.WaitForWatchesAsync(1, Bound);
        var b64 = FakeEtcd.B64(_etcd.Key);
        var first = $"{{\"result\":{{\"header\":{{\"revision\":\"6\"}},\"events\":[{{\"kv\":{{\"key\":\"{b64}\",\"mod_revision\":\"6\",\"value\":\"{FakeEtcd.B64("pg-test-2")}\"}}}}]}}}}\n";
        var second = $"{{\"result\":{{\"header\":{{\"revision\":\"7\"}},\"events\":[{{\"type\":\"DELETE\",\"kv\":{{\"key\":\"{b64}\",\"mod_revision\":\"7\"}}}}]}}}}\n";
        var third = $"{{\"result\":{{\"header\":{{\"revision\":\"8\"}},\"events\":[{{\"kv\":{{\"key\":\"{b64}\",\"mod_revision\":\"8\",\"value\":\"{FakeEtcd.B64("pg-test-3")}\"}}}}]}}}}\n";

        _etcd.SendRaw(first[..17]);
        await Task.Delay(50, Cancel);
        Assert.Single(_reports);
        _etcd.SendRaw(first[17..] + second + third[..40]);
        await watch.WaitForAsync(s => s.Revision == 7, Bound, Cancel);
        _etcd.SendRaw(third[40..]);
        await watch.WaitForAsync(s => s.Revision == 8, Bound, Cancel);

        Assert.Equal(["pg-test-1", "pg-test-2", null, "pg-test-3"], _reports.Select(r => r.Leader));
        Assert.Equal([5L, 6, 7, 8], _reports.Select(r => r.Revision));
    }

    [Fact]
    public async Task Events_for_other_keys_are_ignored()
    {
        await using var watch = Start(Options());
        await watch.WaitForAsync(s => s.IsCurrent, Bound, Cancel);
        await _etcd.WaitForWatchesAsync(1, Bound);
        _etcd.SendRaw($"{{\"result\":{{\"events\":[{{\"kv\":{{\"key\":\"{FakeEtcd.B64("/pg/pg-test/leaderx")}\",\"mod_revision\":\"6\",\"value\":\"{FakeEtcd.B64("x")}\"}}}}]}}}}\n");
        var put = _etcd.Put("pg-test-2");
        await watch.WaitForAsync(s => s.Revision == put, Bound, Cancel);
        Assert.Equal(["pg-test-1", "pg-test-2"], _reports.Select(r => r.Leader));
    }

    [Fact]
    public async Task A_dropped_stream_is_reported_then_the_key_is_read_again_and_a_change_made_meanwhile_is_seen()
    {
        await using var watch = Start(Options());
        await watch.WaitForAsync(s => s.IsCurrent, Bound, Cancel);
        await _etcd.WaitForWatchesAsync(1, Bound);

        // A change the stream never delivers (it happened while the connection was going down).
        var missed = _etcd.Put("pg-test-3", notifyWatches: false);
        var dropped = Stopwatch.GetTimestamp();
        _etcd.AbortWatches();
        var lost = await watch.WaitForAsync(s => s.Change == LeaderKeyChange.Disconnected, Bound, Cancel);
        var detection = Stopwatch.GetElapsedTime(dropped);
        Assert.False(lost.IsCurrent);
        Assert.Equal("pg-test-1", lost.Leader);
        Assert.Contains(_etcd.Endpoint.ToString(), lost.Error, StringComparison.Ordinal);
        Assert.True(detection < TimeSpan.FromSeconds(1), $"the dropped stream was noticed after {detection}");

        var back = await watch.WaitForAsync(s => s.IsCurrent && s.Revision == missed, Bound, Cancel);
        Assert.Equal(("pg-test-3", LeaderKeyChange.Read), (back.Leader, back.Change));
        await _etcd.WaitForWatchesAsync(2, Bound);
        Assert.Equal([6L, missed + 1], _etcd.WatchStartRevisions);
    }

    [Fact]
    public async Task A_cleanly_ended_stream_with_nothing_changed_reports_the_loss_and_the_same_leader_again()
    {
        await using var watch = Start(Options());
        await watch.WaitForAsync(s => s.IsCurrent, Bound, Cancel);
        await _etcd.WaitForWatchesAsync(1, Bound);
        _etcd.EndWatches();
        await _etcd.WaitForWatchesAsync(2, Bound);
        var back = await watch.WaitForAsync(s => s.IsCurrent && s.Change == LeaderKeyChange.Read && _reports.Count == 3, Bound, Cancel);
        Assert.Equal("pg-test-1", back.Leader);
        Assert.Equal([LeaderKeyChange.Read, LeaderKeyChange.Disconnected, LeaderKeyChange.Read], _reports.Select(r => r.Change));
        Assert.Contains("closed the watch", _reports.ElementAt(1).Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_error_object_in_the_stream_ends_the_watch_and_it_reconnects()
    {
        await using var watch = Start(Options());
        await watch.WaitForAsync(s => s.IsCurrent, Bound, Cancel);
        await _etcd.WaitForWatchesAsync(1, Bound);
        _etcd.SendRaw("{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":\"etcdserver: no leader\",\"http_status\":\"Service Unavailable\"}}\n");
        var lost = await watch.WaitForAsync(s => s.Change == LeaderKeyChange.Disconnected, Bound, Cancel);
        Assert.Contains("etcdserver: no leader", lost.Error, StringComparison.Ordinal);
        await watch.WaitForAsync(s => s.IsCurrent, Bound, Cancel);
        await _etcd.WaitForWatchesAsync(2, Bound);
    }

    [Fact]
    public async Task Garbage_in_the_stream_is_reported_and_the_watch_reconnects()
    {
        await using var watch = Start(Options());
        await watch.WaitForAsync(s => s.IsCurrent, Bound, Cancel);
        await _etcd.WaitForWatchesAsync(1, Bound);
        _etcd.SendRaw("<html>502 Bad Gateway</html>");
        var lost = await watch.WaitForAsync(s => s.Change == LeaderKeyChange.Disconnected, Bound, Cancel);
        Assert.Contains("not JSON", lost.Error, StringComparison.Ordinal);
        await watch.WaitForAsync(s => s.IsCurrent, Bound, Cancel);
    }

    [Fact]
    public async Task A_watch_cancelled_by_compaction_reads_the_key_again_without_reporting_a_loss()
    {
        await using var watch = Start(Options());
        await watch.WaitForAsync(s => s.IsCurrent, Bound, Cancel);
        await _etcd.WaitForWatchesAsync(1, Bound);
        var missed = _etcd.Put("pg-test-2", notifyWatches: false);
        _etcd.SendRaw("{\"result\":{\"header\":{\"raft_term\":\"2\"},\"canceled\":true,\"compact_revision\":\"6\"}}\n");
        var read = await watch.WaitForAsync(s => s.Revision == missed, Bound, Cancel);
        Assert.Equal(("pg-test-2", LeaderKeyChange.Read, true), (read.Leader, read.Change, read.IsCurrent));
        Assert.DoesNotContain(_reports, r => r.Change == LeaderKeyChange.Disconnected);
        Assert.Equal(2, _etcd.RangeRequests);
    }

    [Fact]
    public async Task The_next_endpoint_is_used_when_the_first_refuses_connections()
    {
        await using var watch = Start(Options() with { Endpoints = [$"http://127.0.0.1:{ClosedPort()}", _etcd.Endpoint.ToString()] });
        var read = await watch.WaitForAsync(s => s.IsCurrent, Bound, Cancel);
        Assert.Equal(_etcd.Endpoint.ToString(), read.Endpoint);
        Assert.Equal("pg-test-1", read.Leader);
        var failure = Assert.Single(_reports, r => r.Change == LeaderKeyChange.Disconnected);
        Assert.Contains("unreachable", failure.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failed_rounds_back_off_on_the_time_provider_doubling_up_to_the_maximum()
    {
        var time = new CountingTimeProvider(new FakeTimeProvider(DateTimeOffset.UtcNow));
        _etcd.Failing = true;
        await using var watch = Start(Options() with { MinBackoff = TimeSpan.FromMilliseconds(100), MaxBackoff = TimeSpan.FromMilliseconds(300) }, time);

        await WaitUntilAsync(() => _etcd.RangeRequests == 1);
        var lost = await watch.WaitForAsync(s => s.Change == LeaderKeyChange.Disconnected, Bound, Cancel);
        Assert.Contains("request timed out", lost.Error, StringComparison.Ordinal);

        // Waits: 100, 200, 300, 300 ms of the fake clock; no retry happens before the clock gets there.
        var attempt = 1;
        foreach (var wait in (int[])[100, 200, 300, 300])
        {
            await WaitUntilAsync(() => time.TimersCreated == attempt);
            time.Fake.Advance(TimeSpan.FromMilliseconds(wait - 1));
            Assert.Equal(attempt, _etcd.RangeRequests);
            time.Fake.Advance(TimeSpan.FromMilliseconds(1));
            await WaitUntilAsync(() => _etcd.RangeRequests == attempt + 1);
            attempt++;
        }

        // One report per outage, however many attempts fail.
        Assert.Single(_reports, r => r.Change == LeaderKeyChange.Disconnected);
        _etcd.Failing = false;
        await WaitUntilAsync(() => time.TimersCreated == attempt);
        time.Fake.Advance(TimeSpan.FromMilliseconds(300));
        var back = await watch.WaitForAsync(s => s.IsCurrent, Bound, Cancel);
        Assert.Equal("pg-test-1", back.Leader);
    }

    [Fact]
    public async Task With_credentials_every_request_carries_the_token_from_authenticate()
    {
        _etcd.Credentials = ("pg-test", "secret");
        await using var watch = Start(Options() with { Username = "pg-test", Password = new SecretSource { Value = "secret" } });
        await watch.WaitForAsync(s => s.IsCurrent, Bound, Cancel);
        await _etcd.WaitForWatchesAsync(1, Bound);
        Assert.Equal([FakeEtcd.Token, FakeEtcd.Token], _etcd.AuthorizationHeaders);
    }

    [Fact]
    public async Task A_wrong_password_is_reported_with_etcds_message_and_advice()
    {
        _etcd.Credentials = ("pg-test", "secret");
        await using var watch = Start(Options() with { Username = "pg-test", Password = new SecretSource { Value = "wrong" } });
        // On a loaded machine an attempt can time out before the fake answers; the watch retries until it gets etcd's word.
        var lost = await watch.WaitForAsync(
            s => s.Change == LeaderKeyChange.Disconnected && s.Error?.Contains("refused to authenticate", StringComparison.Ordinal) == true,
            TimeSpan.FromSeconds(30), Cancel);
        Assert.Contains("refused to authenticate user pg-test: etcdserver: authentication failed", lost.Error, StringComparison.Ordinal);
        Assert.Contains("pg_etcd_password", lost.Error, StringComparison.Ordinal);
        Assert.Null(lost.Leader);
    }

    [Fact]
    public async Task Credentials_for_an_etcd_without_authentication_are_not_needed()
    {
        await using var watch = Start(Options() with { Username = "pg-test", Password = new SecretSource { Value = "secret" } });
        await watch.WaitForAsync(s => s.IsCurrent, Bound, Cancel);
        await _etcd.WaitForWatchesAsync(1, Bound);
        Assert.All(_etcd.AuthorizationHeaders, Assert.Null);
    }

    [Fact]
    public async Task A_failing_handler_does_not_stop_the_watch()
    {
        await using var watch = new EtcdLeaderWatch(Options(), TimeProvider.System);
        watch.Changed += _ => throw new InvalidOperationException("handler bug");
        watch.Changed += _reports.Enqueue;
        watch.Start();
        await watch.WaitForAsync(s => s.IsCurrent, Bound, Cancel);
        await _etcd.WaitForWatchesAsync(1, Bound);
        var put = _etcd.Put("pg-test-2");
        await watch.WaitForAsync(s => s.Revision == put, Bound, Cancel);
        Assert.Equal(["pg-test-1", "pg-test-2"], _reports.Select(r => r.Leader));
    }

    [Fact]
    public async Task Dispose_ends_an_open_watch_promptly()
    {
        var watch = Start(Options());
        await watch.WaitForAsync(s => s.IsCurrent, Bound, Cancel);
        await _etcd.WaitForWatchesAsync(1, Bound);
        var stopwatch = Stopwatch.StartNew();
        await watch.DisposeAsync();
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), $"dispose took {stopwatch.Elapsed}");
        await WaitUntilAsync(() => _etcd.OpenWatches == 0);
        Assert.Throws<ObjectDisposedException>(watch.Start);
    }

    [Fact]
    public async Task WaitForAsync_times_out_naming_the_last_state()
    {
        await using var watch = Start(Options());
        await watch.WaitForAsync(s => s.IsCurrent, Bound, Cancel);
        var error = await Assert.ThrowsAsync<TimeoutException>(() => watch.WaitForAsync(s => s.Leader == "pg-test-9", TimeSpan.FromMilliseconds(100), Cancel));
        Assert.Contains("leader pg-test-1 at revision 5", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_are_checked_before_anything_connects()
    {
        Assert.Contains("no etcd endpoints", Assert.Throws<ArgumentException>(() => new EtcdLeaderWatch(Options() with { Endpoints = [] })).Message,
            StringComparison.Ordinal);
        Assert.Contains("Invalid etcd endpoint 'ftp://x'", Assert.Throws<ArgumentException>(
            () => new EtcdLeaderWatch(Options() with { Endpoints = ["ftp://x"] })).Message, StringComparison.Ordinal);
        Assert.Contains("CertFile and KeyFile go together", Assert.Throws<ArgumentException>(
            () => new EtcdLeaderWatch(Options() with { CertFile = "/x.crt" })).Message, StringComparison.Ordinal);
        Assert.Contains("no Username", Assert.Throws<ArgumentException>(
            () => new EtcdLeaderWatch(Options() with { Password = new SecretSource { Value = "x" } })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromConfig_takes_endpoints_namespace_credentials_and_TLS_files_from_the_clusters_dcs_settings()
    {
        var cluster = new ClusterConfig
        {
            Name = "pg-meta",
            Members = [],
            Services = [],
            Health = new HealthConfig
            {
                Source = HealthSource.Dcs,
                Dcs = new DcsConfig
                {
                    Endpoints = ["https://10.10.10.10:2379"],
                    Namespace = "/pg/",
                    Username = "pg-meta",
                    Password = new SecretSource { Value = "pg-meta" },
                    CaFile = "/pg/cert/ca.crt",
                    CertFile = "/pg/cert/server.crt",
                    KeyFile = "/pg/cert/server.key",
                },
            },
        };
        var options = EtcdLeaderWatchOptions.FromConfig(cluster);
        Assert.Equal("/pg/pg-meta/leader", options.LeaderKey);
        Assert.Equal(["https://10.10.10.10:2379"], options.Endpoints);
        Assert.Equal(("pg-meta", "pg-meta"), (options.Username, options.Password.Resolve()));
        Assert.Equal(("/pg/cert/ca.crt", "/pg/cert/server.crt", "/pg/cert/server.key"), (options.CaFile, options.CertFile, options.KeyFile));
    }

    private EtcdLeaderWatch Start(EtcdLeaderWatchOptions options, TimeProvider? time = null)
    {
        var watch = new EtcdLeaderWatch(options, time ?? TimeProvider.System);
        watch.Changed += _reports.Enqueue;
        watch.Start();
        return watch;
    }

    private EtcdLeaderWatchOptions Options(FakeEtcd? etcd = null) => new()
    {
        Endpoints = [(etcd ?? _etcd).Endpoint.ToString()],
        Scope = "pg-test",
    };

    /// <summary>A fake clock that counts the timers created on it, so a test knows the watch is waiting before it moves time.</summary>
    private sealed class CountingTimeProvider(FakeTimeProvider fake) : TimeProvider
    {
        private int _timers;

        public FakeTimeProvider Fake => fake;

        public int TimersCreated => Volatile.Read(ref _timers);

        public override DateTimeOffset GetUtcNow() => fake.GetUtcNow();

        public override long GetTimestamp() => fake.GetTimestamp();

        public override long TimestampFrequency => fake.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = fake.CreateTimer(callback, state, dueTime, period);
            Interlocked.Increment(ref _timers);
            return timer;
        }
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition())
        {
            if (stopwatch.Elapsed > Bound)
                Assert.Fail("condition not reached within 5 s");
            await Task.Delay(5, Cancel);
        }
    }
}
