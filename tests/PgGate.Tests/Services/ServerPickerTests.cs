using System.Collections.Immutable;
using PgGate.Config;
using PgGate.Services;

namespace PgGate.Tests.Services;

public class ServerPickerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 0, 0, 0, TimeSpan.Zero);

    private static ServerState State(string name, int weight = 100) =>
        new("replica", new MemberConfig { Name = name, Host = "127.0.0.1" }, weight);

    private static ServerSet Set(bool allBackups, params (ServerState State, bool Backup, bool Up)[] servers) =>
        new([.. servers.Select(s => new ServerEntry(s.State, s.Backup, s.Up))], allBackups, 1);

    private static Dictionary<string, int> PickMany(ServerPicker picker, ServerSet set, ServerOptions options, int n, bool release = true)
    {
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < n; i++)
        {
            Assert.Equal(PickOutcome.Picked, picker.TryPick(set, options, Now, null, out var s));
            counts[s!.Name] = counts.GetValueOrDefault(s.Name) + 1;
            if (release)
                s.Release();
        }
        return counts;
    }

    [Fact]
    public void Round_robin_follows_weights_and_interleaves()
    {
        var a = State("a", 100);
        var b = State("b", 50);
        var set = Set(false, (a, false, true), (b, false, true));
        var picker = new ServerPicker(BalanceAlgorithm.RoundRobin);
        var order = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            picker.TryPick(set, ServerOptions.Norm, Now, null, out var s);
            order.Add(s!.Name);
            s.Release();
        }
        Assert.Equal(4, order.Count(n => n == "a"));
        Assert.Equal(2, order.Count(n => n == "b"));
        // Smooth weighted round-robin interleaves instead of sending bursts to the heavier server.
        Assert.DoesNotContain("bb", string.Concat(order));
        Assert.DoesNotContain("aaa", string.Concat(order));
    }

    [Fact]
    public void Backups_serve_only_when_no_normal_server_is_up_and_only_the_first_without_allbackups()
    {
        var normal = State("n");
        var b1 = State("b1");
        var b2 = State("b2");
        var picker = new ServerPicker(BalanceAlgorithm.RoundRobin);

        var withNormal = Set(false, (normal, false, true), (b1, true, true), (b2, true, true));
        Assert.Equal(new[] { "n" }, PickMany(picker, withNormal, ServerOptions.Norm, 5).Keys);

        var normalDown = Set(false, (normal, false, false), (b1, true, true), (b2, true, true));
        Assert.True(normalDown.UsingBackups);
        Assert.Equal(new[] { "b1" }, PickMany(picker, normalDown, ServerOptions.Norm, 5).Keys);

        var firstBackupDown = Set(false, (normal, false, false), (b1, true, false), (b2, true, true));
        Assert.Equal(new[] { "b2" }, PickMany(picker, firstBackupDown, ServerOptions.Norm, 5).Keys);

        var allBackups = Set(true, (normal, false, false), (b1, true, true), (b2, true, true));
        Assert.Equal(["b1", "b2"], PickMany(picker, allBackups, ServerOptions.Norm, 6).Keys.Order());
    }

    [Fact]
    public void Nothing_up_means_no_server()
    {
        var set = Set(false, (State("a"), false, false), (State("b"), true, false));
        Assert.Equal(PickOutcome.NoServer, new ServerPicker(BalanceAlgorithm.RoundRobin).TryPick(set, ServerOptions.Norm, Now, null, out _));
    }

    [Fact]
    public void Maxconn_fills_then_reports_busy_and_a_release_frees_a_slot()
    {
        var a = State("a");
        var b = State("b");
        var set = Set(false, (a, false, true), (b, false, true));
        var options = ServerOptions.Norm with { MaxConn = 2, SlowStart = TimeSpan.Zero };
        var picker = new ServerPicker(BalanceAlgorithm.LeastConn);
        var counts = PickMany(picker, set, options, 4, release: false);
        Assert.Equal(2, counts["a"]);
        Assert.Equal(2, counts["b"]);
        Assert.Equal(PickOutcome.AllBusy, picker.TryPick(set, options, Now, null, out _));
        a.Release();
        Assert.Equal(PickOutcome.Picked, picker.TryPick(set, options, Now, null, out var s));
        Assert.Same(a, s);
    }

    [Fact]
    public void Leastconn_prefers_the_server_with_fewest_sessions_per_weight()
    {
        var a = State("a");
        var b = State("b");
        Assert.True(a.TryReserve(0));
        Assert.True(a.TryReserve(0));
        var set = Set(false, (a, false, true), (b, false, true));
        var picker = new ServerPicker(BalanceAlgorithm.LeastConn);
        picker.TryPick(set, ServerOptions.Norm, Now, null, out var s);
        Assert.Same(b, s);
    }

    [Fact]
    public void Weight_zero_takes_no_new_sessions()
    {
        var drained = State("drained", 0);
        var set = Set(false, (drained, false, true));
        Assert.Equal(PickOutcome.NoServer, new ServerPicker(BalanceAlgorithm.RoundRobin).TryPick(set, ServerOptions.Norm, Now, null, out _));
    }

    [Fact]
    public void Excluded_servers_are_skipped_while_another_is_up()
    {
        var a = State("a");
        var b = State("b");
        var set = Set(false, (a, false, true), (b, false, true));
        var picker = new ServerPicker(BalanceAlgorithm.RoundRobin);
        for (var i = 0; i < 4; i++)
        {
            picker.TryPick(set, ServerOptions.Norm, Now, [a], out var s);
            Assert.Same(b, s);
            s!.Release();
        }
        // When every server failed, trying again beats refusing.
        picker.TryPick(set, ServerOptions.Norm, Now, [a, b], out var any);
        Assert.NotNull(any);
    }

    [Fact]
    public void Slow_start_ramps_weight_and_maxconn()
    {
        var fresh = State("fresh");
        var old = State("old");
        fresh.RampFrom = Now - TimeSpan.FromSeconds(3);     // 10% into a 30 s ramp
        var set = Set(false, (fresh, false, true), (old, false, true));
        var options = ServerOptions.Norm with { SlowStart = TimeSpan.FromSeconds(30), MaxConn = 100 };
        Assert.Equal(10, ServerPicker.EffectiveMaxConn(options, fresh, Now));
        var counts = PickMany(new ServerPicker(BalanceAlgorithm.RoundRobin), set, options, 110);
        Assert.InRange(counts.GetValueOrDefault("fresh"), 8, 12);
        Assert.Equal(1.0, fresh.RampFactor(Now + TimeSpan.FromSeconds(30), options.SlowStart));
    }

    [Fact]
    public void Random_spreads_over_every_server()
    {
        var set = Set(false, (State("a"), false, true), (State("b"), false, true), (State("c"), false, true));
        var counts = PickMany(new ServerPicker(BalanceAlgorithm.Random, new Random(7)), set, ServerOptions.Norm, 300);
        Assert.Equal(3, counts.Count);
        Assert.All(counts.Values, v => Assert.InRange(v, 60, 140));
    }
}
