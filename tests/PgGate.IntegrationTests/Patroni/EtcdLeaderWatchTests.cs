using System.Collections.Concurrent;
using System.Diagnostics;
using PgGate.Cluster.Dcs;
using PgGate.IntegrationTests.Fixtures;
using PgGate.Sandbox.Patroni;

namespace PgGate.IntegrationTests.Patroni;

/// <summary>The etcd leader watch against real etcd and Patroni: switchover, node death (key expiry), etcd restart, and latency.</summary>
[Collection("patroni")]
public sealed class EtcdLeaderWatchTests(PatroniFixture fixture) : IAsyncLifetime
{
    private readonly ConcurrentQueue<LeaderKeyState> _seen = new();
    private PatroniCluster _cluster = null!;
    private EtcdLeaderWatch _watch = null!;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static ITestOutputHelper? Output => TestContext.Current.TestOutputHelper;

    public async ValueTask InitializeAsync()
    {
        _cluster = await fixture.ResetAsync(Cancel);
        _watch = new EtcdLeaderWatch(WatchOptions("pg-test"), TimeProvider.System, TestContextLogger.Instance);
        _watch.Changed += _seen.Enqueue;
        _watch.Start();
    }

    public async ValueTask DisposeAsync() => await _watch.DisposeAsync();

    [Fact]
    public async Task First_report_is_a_read_of_the_current_leader()
    {
        var leader = await _cluster.LeaderAsync(Cancel);
        var state = await _watch.WaitForAsync(s => s.IsCurrent, TimeSpan.FromSeconds(5), Cancel);
        Assert.Equal("/pg/pg-test/leader", _watch.Key);
        Assert.Equal(leader, state.Leader);
        Assert.Equal(LeaderKeyChange.Read, state.Change);
        Assert.True(state.Revision > 0);
        Assert.Equal(_cluster.Etcd.ClientUrl + "/", state.Endpoint);
        Assert.Null(state.Error);
        Assert.Equal([LeaderKeyChange.Read], _seen.Select(s => s.Change));
    }

    [Fact]
    public async Task A_switchover_is_seen_as_the_old_key_deleted_and_the_new_leader_put_as_soon_as_etcd_has_it()
    {
        var old = (await _watch.WaitForAsync(s => s.IsCurrent, TimeSpan.FromSeconds(5), Cancel)).Leader!;
        var target = _cluster.Members.First(m => m.Name != old).Name;

        // A second opinion: poll etcd every few milliseconds and note when the value first changes.
        using var stopPolling = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        var poller = PollForChangeAsync(old, stopPolling.Token);

        var requested = Stopwatch.GetTimestamp();
        Assert.Equal(target, await _cluster.SwitchoverAsync(target, Cancel));
        var put = await _watch.WaitForAsync(s => s.Leader == target, TimeSpan.FromSeconds(10), Cancel);
        var polled = await poller;
        await stopPolling.CancelAsync();

        var changes = _seen.SkipWhile(s => s.Change == LeaderKeyChange.Read).ToList();
        Assert.Equal(LeaderKeyChange.Put, put.Change);
        Assert.True(put.IsCurrent);
        var firstChange = changes.First(s => s.Leader != old);
        Assert.True(firstChange.Revision > 0);
        Assert.All(changes.Zip(changes.Skip(1)), pair => Assert.True(pair.First.Revision < pair.Second.Revision));

        var watchLeadMs = Stopwatch.GetElapsedTime(firstChange.ObservedTimestamp, polled.Timestamp).TotalMilliseconds;
        var watchMs = Stopwatch.GetElapsedTime(requested, firstChange.ObservedTimestamp).TotalMilliseconds;
        Output?.WriteLine(
            $"switchover {old} -> {target}: watch events {string.Join(", ", changes.Select(c => $"{c.Change} {c.Leader ?? "(none)"} @{c.Revision}"))}; " +
            $"first change seen by the watch {watchMs:0} ms after the request, {watchLeadMs:0.0} ms before a 5 ms poller saw it " +
            $"({(polled.Value ?? "no key")} at revision {polled.Revision}); new leader put seen {Stopwatch.GetElapsedTime(requested, put.ObservedTimestamp).TotalMilliseconds:0} ms after the request");

        // The watch must not trail a tight poll of etcd by more than 100 ms (it normally leads it).
        Assert.True(watchLeadMs > -100, $"the watch saw the change {-watchLeadMs:0} ms after the poller");
        await _cluster.WaitUntilHealthyAsync(cancellationToken: Cancel);
    }

    [Fact]
    public async Task Watch_reports_a_write_within_milliseconds_of_etcd_acknowledging_it()
    {
        const string Scope = "pggate-latency-probe";
        await using var probe = new EtcdLeaderWatch(WatchOptions(Scope), TimeProvider.System);
        probe.Start();
        await probe.WaitForAsync(s => s.IsCurrent, TimeSpan.FromSeconds(5), Cancel);
        using var http = EtcdConnection.CreateHttpClient(null, null, null, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5));
        var etcd = await EtcdConnection.OpenAsync(http, new Uri(_cluster.Etcd.ClientUrl), null, null, TimeSpan.FromSeconds(2), Cancel);

        var latencies = new List<double>();
        for (var i = 0; i < 20; i++)
        {
            var value = i % 2 == 0 ? $"member-{i}" : null;
            var revision = value is null
                ? await etcd.DeleteAsync(probe.Key, Cancel)
                : await etcd.PutAsync(probe.Key, value, 0, Cancel);
            var acknowledged = Stopwatch.GetTimestamp();
            var seen = await probe.WaitForAsync(s => s.Revision >= revision, TimeSpan.FromSeconds(5), Cancel);
            Assert.Equal(value, seen.Leader);
            Assert.Equal(revision, seen.Revision);
            Assert.Equal(value is null ? LeaderKeyChange.Delete : LeaderKeyChange.Put, seen.Change);
            latencies.Add(Math.Max(0, Stopwatch.GetElapsedTime(acknowledged, seen.ObservedTimestamp).TotalMilliseconds));
        }

        latencies.Sort();
        Output?.WriteLine($"etcd write acknowledged -> watch callback, 20 writes: median {latencies[10]:0.00} ms, max {latencies[^1]:0.00} ms");
        Assert.True(latencies[10] < 100, $"median latency {latencies[10]:0.0} ms");
    }

    [Fact]
    public async Task When_the_leaders_node_dies_the_key_vanishes_after_ttl_and_the_new_leader_is_seen()
    {
        var old = (await _watch.WaitForAsync(s => s.IsCurrent, TimeSpan.FromSeconds(5), Cancel)).Leader!;
        var ttl = TimeSpan.FromSeconds(_cluster.Options.Timers.Ttl);
        var killed = Stopwatch.GetTimestamp();
        await _cluster.KillNodeAsync(_cluster.Member(old));

        var deleted = await _watch.WaitForAsync(s => s.Change == LeaderKeyChange.Delete, ttl + TimeSpan.FromSeconds(15), Cancel);
        var expiredAfter = Stopwatch.GetElapsedTime(killed, deleted.ObservedTimestamp);
        Assert.Null(deleted.Leader);
        Assert.True(deleted.IsCurrent);
        Assert.True(expiredAfter >= ttl - TimeSpan.FromSeconds(_cluster.Options.Timers.LoopWait + 1), $"the key went after only {expiredAfter}");

        var next = await _watch.WaitForAsync(s => s.Leader is not null && s.Leader != old, TimeSpan.FromSeconds(30), Cancel);
        Assert.Equal(LeaderKeyChange.Put, next.Change);
        Assert.True(next.Revision > deleted.Revision);
        Output?.WriteLine(
            $"SIGKILL of node {old} (ttl {ttl.TotalSeconds:0} s): watch saw the key expire {expiredAfter.TotalMilliseconds:0} ms after the kill " +
            $"and {next.Leader} take it {Stopwatch.GetElapsedTime(deleted.ObservedTimestamp, next.ObservedTimestamp).TotalMilliseconds:0} ms later");

        await _cluster.StartMemberAsync(_cluster.Member(old), Cancel);
        await _cluster.WaitUntilHealthyAsync(cancellationToken: Cancel);
    }

    [Fact]
    public async Task Watch_survives_an_etcd_crash_and_follows_changes_made_after_etcd_is_back()
    {
        var before = await _watch.WaitForAsync(s => s.IsCurrent, TimeSpan.FromSeconds(5), Cancel);
        var crashed = Stopwatch.GetTimestamp();
        await _cluster.Etcd.KillAsync();

        var lost = await _watch.WaitForAsync(s => !s.IsCurrent, TimeSpan.FromSeconds(5), Cancel);
        Assert.Equal(LeaderKeyChange.Disconnected, lost.Change);
        Assert.Equal(before.Leader, lost.Leader);
        Assert.Contains("etcd at http://127.0.0.40:2379", lost.Error, StringComparison.Ordinal);
        var lostAfter = Stopwatch.GetElapsedTime(crashed, lost.ObservedTimestamp);

        var restarted = Stopwatch.GetTimestamp();
        await _cluster.Etcd.StartAgainAsync(Cancel);
        var back = await _watch.WaitForAsync(s => s.IsCurrent, TimeSpan.FromSeconds(10), Cancel);
        Assert.Equal(LeaderKeyChange.Read, back.Change);
        Assert.Equal(before.Leader, back.Leader);
        Assert.True(back.Revision >= before.Revision);
        var backAfter = Stopwatch.GetElapsedTime(restarted, back.ObservedTimestamp);

        // Only a working watch (not the re-read) can see this.
        await _cluster.WaitUntilHealthyAsync(cancellationToken: Cancel);
        var target = _cluster.Members.First(m => m.Name != before.Leader).Name;
        await _cluster.SwitchoverAsync(target, Cancel);
        var moved = await _watch.WaitForAsync(s => s.Leader == target, TimeSpan.FromSeconds(10), Cancel);
        Assert.Equal(LeaderKeyChange.Put, moved.Change);
        Output?.WriteLine(
            $"etcd SIGKILL: watch reported the loss after {lostAfter.TotalMilliseconds:0} ms; current again {backAfter.TotalMilliseconds:0} ms after " +
            $"etcd was started again (etcd itself took part of that); reports: {string.Join(", ", _seen.Select(s => s.Change))}");
        Assert.Equal(1, _seen.Count(s => s.Change == LeaderKeyChange.Disconnected));
        await _cluster.WaitUntilHealthyAsync(cancellationToken: Cancel);
    }

    private EtcdLeaderWatchOptions WatchOptions(string scope) => new()
    {
        Endpoints = [_cluster.Etcd.ClientUrl],
        Namespace = _cluster.Options.Namespace,
        Scope = scope,
    };

    private async Task<(string? Value, long Revision, long Timestamp)> PollForChangeAsync(string old, CancellationToken cancellationToken)
    {
        using var http = EtcdConnection.CreateHttpClient(null, null, null, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5));
        var etcd = await EtcdConnection.OpenAsync(http, new Uri(_cluster.Etcd.ClientUrl), null, null, TimeSpan.FromSeconds(2), cancellationToken);
        while (true)
        {
            var read = await etcd.RangeAsync(_watch.Key, cancellationToken);
            if (read.Value != old)
                return (read.Value, read.Revision, Stopwatch.GetTimestamp());
            await Task.Delay(5, cancellationToken);
        }
    }
}
