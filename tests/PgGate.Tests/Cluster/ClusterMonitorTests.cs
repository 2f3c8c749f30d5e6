using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using PgGate.Cluster;
using PgGate.Config;

namespace PgGate.Tests.Cluster;

public class ClusterMonitorTests
{
    /// <summary>A scripted member: what it reports is set by the test.</summary>
    private sealed class ScriptedProbe(Func<IReadOnlyList<CheckPath>, ProbeResult> answer, Action onProbe) : IMemberProbe
    {
        public ValueTask<ProbeResult> ProbeAsync(IReadOnlyList<CheckPath> checks, CancellationToken cancellationToken)
        {
            onProbe();
            return ValueTask.FromResult(answer(checks));
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class ScriptedCluster : IMemberProbeFactory
    {
        public readonly Dictionary<string, MemberFacts> Facts = [];
        public int Probes;
        public int RoleProbes;

        /// <summary>Answer checks as Patroni's REST API does: leader paths pass on the holder of the lock.</summary>
        public bool AnswersLikePatroni { get; init; }
        public readonly HashSet<string> HoldsLock = [];

        /// <summary>What a direct role probe (SQL) reads per member; no role probe when null.</summary>
        public Dictionary<string, MemberFacts>? RoleFacts { get; init; }

        public IMemberProbe Create(ClusterConfig cluster, MemberConfig member) =>
            new ScriptedProbe(checks => Answer(member.Name, checks), () => Interlocked.Increment(ref Probes));

        public IMemberProbe? CreateRoleProbe(ClusterConfig cluster, MemberConfig member) =>
            RoleFacts is null
                ? null
                : new ScriptedProbe(_ => { lock (Facts) return new ProbeResult(RoleFacts[member.Name], null); }, () => Interlocked.Increment(ref RoleProbes));

        public void Set(string member, MemberFacts facts)
        {
            lock (Facts)
                Facts[member] = facts;
        }

        public void SetRole(string member, MemberFacts facts)
        {
            lock (Facts)
                RoleFacts![member] = facts;
        }

        private ProbeResult Answer(string member, IReadOnlyList<CheckPath> checks)
        {
            lock (Facts)
            {
                var facts = Facts[member];
                if (!AnswersLikePatroni)
                    return new ProbeResult(facts, null);
                var passed = new bool[checks.Count];
                for (var i = 0; i < passed.Length; i++)
                {
                    passed[i] = checks[i].IsLeaderPath
                        ? HoldsLock.Contains(member)
                        : PatroniCheckRules.Passes(checks[i], facts with { IsLeader = HoldsLock.Contains(member) });
                }
                return new ProbeResult(facts, passed);
            }
        }
    }

    private static MemberFacts Primary(long timeline = 1) => new() { Reachable = true, Running = true, Role = MemberRole.Primary, Timeline = timeline, Lsn = 1000 };
    private static MemberFacts Replica(ulong replay = 1000) => new() { Reachable = true, Running = true, Role = MemberRole.Replica, Timeline = 1, Lsn = replay };
    private static readonly MemberFacts Unreachable = new() { Error = "connection refused" };

    private static ClusterConfig Cluster(HealthSource source) => new()
    {
        Name = "pg-test",
        Members =
        [
            new MemberConfig { Name = "pg-test-1", Host = "10.10.10.11", Role = "primary" },
            new MemberConfig { Name = "pg-test-2", Host = "10.10.10.12", Role = "replica" },
        ],
        Health = new HealthConfig { Source = source },
        Services =
        [
            new ServiceConfig { Name = "primary", Port = 5433, Check = "/primary" },
            new ServiceConfig { Name = "replica", Port = 5434, Check = "/read-only" },
            new ServiceConfig { Name = "default", Port = 5436, Check = "/primary" },
        ],
    };

    private static async Task<(ClusterMonitor Monitor, FakeTimeProvider Clock, ScriptedCluster Members)> StartAsync(
        HealthSource source = HealthSource.Sql, ScriptedCluster? scripted = null)
    {
        var members = scripted ?? new ScriptedCluster();
        members.Set("pg-test-1", Primary());
        members.Set("pg-test-2", Replica());
        members.HoldsLock.Add("pg-test-1");
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero));
        var monitor = new ClusterMonitor(Cluster(source), members, clock, NullLogger<ClusterMonitor>.Instance);
        if (source == HealthSource.Dcs)
            monitor.OnLeaderKey(Key("pg-test-1", 10, clock));
        monitor.Start();
        await monitor.WaitForAsync(v => v.Members.All(m => m.Checks.All(c => c.Phase != CheckPhase.Init)), TimeSpan.FromSeconds(5));
        // Until the leader's first result, the others are probed in a hurry (a leader hunt); let that settle so tests
        // start from steady timers: every member next probed at t = 2 s.
        await AdvanceUntilAsync(clock, monitor, _ => false, ClusterMonitor.TransitionInterval, 1, failAtEnd: false);
        return (monitor, clock, members);
    }

    private static readonly CheckSpec PrimaryCheck = new(CheckPath.Parse("/primary"), 3, 3);
    private static readonly CheckSpec ReadOnlyCheck = new(CheckPath.Parse("/read-only"), 3, 3);

    [Fact]
    public async Task Services_sharing_a_check_share_one_check_per_member()
    {
        var (monitor, _, _) = await StartAsync();
        await using var _ = monitor;
        Assert.Equal(2, monitor.Checks.Count);
    }

    [Fact]
    public async Task First_probe_sets_state_from_live_role()
    {
        var (monitor, _, _) = await StartAsync();
        await using var _ = monitor;
        var v = monitor.Current;
        Assert.True(v.IsUp("pg-test-1", PrimaryCheck));
        Assert.False(v.IsUp("pg-test-2", PrimaryCheck));
        Assert.True(v.IsUp("pg-test-2", ReadOnlyCheck));
        Assert.Equal("pg-test-1", v.Leader?.Name);
        Assert.Equal(0, v.FindMember("pg-test-2")!.Facts.LagBytes);
    }

    [Fact]
    public async Task A_dead_primary_goes_down_after_fall_checks_at_fastinter()
    {
        var (monitor, clock, members) = await StartAsync();
        await using var _ = monitor;
        members.Set("pg-test-1", Unreachable);

        // norm: inter 2s, then fastinter 1s while going down: fails at t=2, 3, 4.
        var downAt = await AdvanceUntilAsync(clock, monitor, v => !v.IsUp("pg-test-1", PrimaryCheck), TimeSpan.FromMilliseconds(250), 40);
        Assert.InRange(downAt, TimeSpan.FromSeconds(3.9), TimeSpan.FromSeconds(4.3));
        Assert.Null(monitor.Current.Leader);
    }

    [Fact]
    public async Task A_promoted_replica_takes_writes_at_its_first_probe_without_waiting_for_rise()
    {
        var (monitor, clock, members) = await StartAsync();
        await using var _ = monitor;
        members.Set("pg-test-1", Unreachable);
        members.Set("pg-test-2", Primary(timeline: 2));
        // Both next probe at t=2 (inter for the leader, downinter for the replica's /primary): the replica is confirmed
        // leader by its own facts there, and the old leader loses the check at once (at most one member passes it).
        var upAt = await AdvanceUntilAsync(clock, monitor, v => v.IsUp("pg-test-2", PrimaryCheck), TimeSpan.FromMilliseconds(100), 40);
        Assert.InRange(upAt, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(2.2));
        Assert.False(monitor.Current.IsUp("pg-test-1", PrimaryCheck));
        Assert.Equal("pg-test-2", monitor.Current.Leader?.Name);
    }

    [Fact]
    public async Task While_the_leader_fails_candidates_are_probed_every_transition_interval()
    {
        var (monitor, clock, members) = await StartAsync();
        await using var _ = monitor;
        members.Set("pg-test-1", Unreachable);
        // The leader's first failed probe (t=2) starts the hunt; it is still up (fall 3) but failing.
        await AdvanceUntilAsync(clock, monitor, v => v.FindMember("pg-test-1")!.Checks.Any(c => c.Phase == CheckPhase.GoingDown),
            TimeSpan.FromMilliseconds(100), 40);
        members.Set("pg-test-2", Primary(timeline: 2));
        var seenAfter = await AdvanceUntilAsync(clock, monitor, v => v.IsUp("pg-test-2", PrimaryCheck), TimeSpan.FromMilliseconds(20), 50);
        Assert.True(seenAfter <= ClusterMonitor.TransitionInterval + TimeSpan.FromMilliseconds(20), $"promotion seen after {seenAfter}");
    }

    [Fact]
    public async Task A_leader_that_answers_as_a_replica_loses_the_primary_check_at_once()
    {
        var (monitor, clock, members) = await StartAsync();
        await using var _ = monitor;
        members.Set("pg-test-1", Replica());
        var downAt = await AdvanceUntilAsync(clock, monitor, v => !v.IsUp("pg-test-1", PrimaryCheck), TimeSpan.FromMilliseconds(100), 40);
        Assert.InRange(downAt, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(2.2));
    }

    [Fact]
    public async Task Two_primaries_are_resolved_by_the_newest_timeline()
    {
        var (monitor, clock, members) = await StartAsync();
        await using var _ = monitor;
        members.Set("pg-test-2", Primary(timeline: 2));
        await AdvanceUntilAsync(clock, monitor, v => v.Leader?.Name == "pg-test-2", TimeSpan.FromMilliseconds(500), 20);
        var old = monitor.Current.FindMember("pg-test-1")!;
        Assert.False(old.Facts.IsLeader);
        Assert.Equal("primary", LiveRoles.LiveName(old.Facts));
    }

    [Fact]
    public async Task Equal_timelines_give_writes_to_nobody()
    {
        var (monitor, clock, members) = await StartAsync();
        await using var _ = monitor;
        members.Set("pg-test-2", Primary(timeline: 1));
        await AdvanceUntilAsync(clock, monitor, v => v.FindMember("pg-test-2")!.Facts.Role == MemberRole.Primary, TimeSpan.FromMilliseconds(500), 20);
        Assert.Null(monitor.Current.Leader);
        Assert.All(monitor.Current.Members, m => Assert.False(m.Facts.IsLeader));
    }

    [Fact]
    public async Task Replica_lag_is_measured_against_the_leader()
    {
        var (monitor, clock, members) = await StartAsync();
        await using var _ = monitor;
        members.Set("pg-test-1", Primary() with { Lsn = 5000 });
        members.Set("pg-test-2", Replica(replay: 3000));
        await AdvanceUntilAsync(clock, monitor, v => v.FindMember("pg-test-2")!.Facts.LagBytes == 2000, TimeSpan.FromMilliseconds(500), 20);
    }

    [Fact]
    public async Task View_changed_fires_on_state_changes_only()
    {
        var (monitor, clock, members) = await StartAsync();
        await using var _ = monitor;
        var changes = 0;
        monitor.ViewChanged += _ => Interlocked.Increment(ref changes);
        var probes = members.Probes;
        await AdvanceUntilAsync(clock, monitor, _ => Volatile.Read(ref members.Probes) >= probes + 6, TimeSpan.FromMilliseconds(500), 40);
        Assert.Equal(0, Volatile.Read(ref changes));
        members.Set("pg-test-2", Unreachable);
        await AdvanceUntilAsync(clock, monitor, v => !v.FindMember("pg-test-2")!.Facts.Reachable, TimeSpan.FromMilliseconds(500), 20);
        Assert.True(Volatile.Read(ref changes) >= 1);
    }

    private static PgGate.Cluster.Dcs.LeaderKeyState Key(string? leader, long revision, FakeTimeProvider clock) => new()
    {
        Key = "/pg/pg-test/leader",
        Leader = leader,
        IsCurrent = true,
        Revision = revision,
        Change = leader is null ? PgGate.Cluster.Dcs.LeaderKeyChange.Delete : PgGate.Cluster.Dcs.LeaderKeyChange.Put,
        ObservedAt = clock.GetUtcNow(),
    };

    [Fact]
    public async Task When_the_leader_key_moves_the_old_holder_loses_writes_at_once_and_the_new_one_gets_them_when_ready()
    {
        var (monitor, clock, members) = await StartAsync(HealthSource.Dcs);
        await using var _ = monitor;
        Assert.True(monitor.Current.IsUp("pg-test-1", PrimaryCheck));

        // Patroni takes the key for pg-test-2 before promoting it: it still reports replica.
        monitor.OnLeaderKey(Key("pg-test-2", 11, clock));
        Assert.False(monitor.Current.IsUp("pg-test-1", PrimaryCheck));
        Assert.False(monitor.Current.IsUp("pg-test-2", PrimaryCheck));

        members.Set("pg-test-2", Primary(timeline: 2));
        var ready = await AdvanceUntilAsync(clock, monitor, v => v.IsUp("pg-test-2", PrimaryCheck), TimeSpan.FromMilliseconds(10), 20);
        Assert.True(ready <= ClusterMonitor.ConfirmInterval + TimeSpan.FromMilliseconds(10), $"confirmed after {ready}");
        Assert.Equal("pg-test-2", monitor.Current.Leader?.Name);
    }

    [Fact]
    public async Task A_member_that_says_primary_without_the_leader_key_gets_no_writes()
    {
        var (monitor, clock, members) = await StartAsync(HealthSource.Dcs);
        await using var _ = monitor;
        monitor.OnLeaderKey(Key(null, 11, clock));     // the key expired: no leader
        Assert.All(monitor.Current.Members, m => Assert.False(m.FindCheck(PrimaryCheck)!.IsUp));
        await AdvanceUntilAsync(clock, monitor, _ => false, TimeSpan.FromMilliseconds(500), 10, failAtEnd: false);
        Assert.False(monitor.Current.IsUp("pg-test-1", PrimaryCheck), "pg-test-1 still says primary, but holds no key");
    }

    [Fact]
    public async Task Patroni_answers_primary_once_it_holds_the_lock_but_writes_wait_until_postgres_leaves_recovery()
    {
        var (monitor, clock, members) = await StartAsync(HealthSource.Dcs, new ScriptedCluster { AnswersLikePatroni = true });
        await using var _ = monitor;
        Assert.True(monitor.Current.IsUp("pg-test-1", PrimaryCheck));

        lock (members.Facts)
        {
            members.HoldsLock.Clear();
            members.HoldsLock.Add("pg-test-2");
        }
        monitor.OnLeaderKey(Key("pg-test-2", 11, clock));
        // pg-test-2's Patroni says 200 to /primary now, but its PostgreSQL is still in recovery (pg_ctl promote runs).
        await AdvanceUntilAsync(clock, monitor, _ => false, TimeSpan.FromMilliseconds(10), 30, failAtEnd: false);
        Assert.True(members.Probes > 3, "the new holder was probed while it was being promoted");
        Assert.False(monitor.Current.IsUp("pg-test-2", PrimaryCheck), "writes would fail with 25006 on a server in recovery");

        members.Set("pg-test-2", Primary(timeline: 2));
        var ready = await AdvanceUntilAsync(clock, monitor, v => v.IsUp("pg-test-2", PrimaryCheck), TimeSpan.FromMilliseconds(10), 20);
        Assert.True(ready <= ClusterMonitor.ConfirmInterval + TimeSpan.FromMilliseconds(10), $"confirmed after {ready}");
    }

    [Fact]
    public async Task A_key_holder_whose_postgres_restarts_in_recovery_loses_writes_at_its_next_probe_and_regains_them_when_promoted()
    {
        var (monitor, clock, members) = await StartAsync(HealthSource.Dcs, new ScriptedCluster { AnswersLikePatroni = true });
        await using var _ = monitor;
        Assert.True(monitor.Current.IsUp("pg-test-1", PrimaryCheck));

        // Its postmaster was killed; Patroni, still holding the lock, starts PostgreSQL as a standby first (and calls it
        // "starting" while the standby already takes connections).
        members.Set("pg-test-1", Replica() with { Running = false });
        var downAt = await AdvanceUntilAsync(clock, monitor, v => !v.IsUp("pg-test-1", PrimaryCheck), TimeSpan.FromMilliseconds(100), 40);
        Assert.True(downAt <= TimeSpan.FromSeconds(2.1), $"down after {downAt}: at the first probe (inter 2 s), not after fall checks");

        members.Set("pg-test-1", Primary());
        await AdvanceUntilAsync(clock, monitor, v => v.IsUp("pg-test-1", PrimaryCheck), TimeSpan.FromMilliseconds(50), 20);
    }

    [Fact]
    public async Task A_key_holder_whose_patroni_cannot_query_postgres_loses_writes_after_fall_checks_and_regains_them_when_it_answers()
    {
        var (monitor, clock, members) = await StartAsync(HealthSource.Dcs, new ScriptedCluster { AnswersLikePatroni = true });
        await using var _ = monitor;
        Assert.True(monitor.Current.IsUp("pg-test-1", PrimaryCheck));

        // Its postmaster was killed: Patroni still holds the lock and answers /primary with 200, but its state is "unknown"
        // and the role it reports is its own memory ("primary"), not PostgreSQL's.
        members.Set("pg-test-1", Primary() with { Running = false });
        var downAt = await AdvanceUntilAsync(clock, monitor, v => !v.IsUp("pg-test-1", PrimaryCheck), TimeSpan.FromMilliseconds(100), 200);
        Assert.True(downAt >= TimeSpan.FromSeconds(2), $"down after {downAt}: a single unanswered query is not enough (fall checks)");

        // PostgreSQL is back as primary: writes again at once.
        members.Set("pg-test-1", Primary());
        await AdvanceUntilAsync(clock, monitor, v => v.IsUp("pg-test-1", PrimaryCheck), TimeSpan.FromMilliseconds(50), 60);
    }

    [Fact]
    public async Task The_new_key_holder_is_confirmed_by_its_own_postgres_before_patroni_reports_the_promotion()
    {
        var members = new ScriptedCluster
        {
            AnswersLikePatroni = true,
            RoleFacts = new() { ["pg-test-1"] = Primary(), ["pg-test-2"] = Replica() },
        };
        var (monitor, clock, _) = await StartAsync(HealthSource.Dcs, members);
        await using var _ = monitor;
        lock (members.Facts)
        {
            members.HoldsLock.Clear();
            members.HoldsLock.Add("pg-test-2");
        }
        monitor.OnLeaderKey(Key("pg-test-2", 11, clock));
        await AdvanceUntilAsync(clock, monitor, _ => false, TimeSpan.FromMilliseconds(10), 10, failAtEnd: false);
        Assert.False(monitor.Current.IsUp("pg-test-2", PrimaryCheck));

        // PostgreSQL has left recovery; Patroni's GET /patroni still says replica (its REST API lags on a busy node).
        members.SetRole("pg-test-2", Primary(timeline: 2));
        // Patroni never says primary in this test: the check goes up on PostgreSQL's word alone, polled every 10 ms (the
        // bound leaves room for steps where the background loop ran late on a loaded machine).
        var ready = await AdvanceUntilAsync(clock, monitor, v => v.IsUp("pg-test-2", PrimaryCheck), TimeSpan.FromMilliseconds(10), 20);
        Assert.True(ready < ClusterMonitor.TransitionInterval, $"confirmed after {ready}");
        Assert.Equal("pg-test-2", monitor.Current.Leader?.Name);
        Assert.Equal(MemberRole.Primary, monitor.Current.FindMember("pg-test-2")!.Facts.Role);
        Assert.False(monitor.Current.IsUp("pg-test-1", PrimaryCheck));

        // Once confirmed, the direct reads stop (the role probe is for the transition only), and Patroni's late
        // "replica" neither flaps the role nor fails the new leader's check.
        var roleProbes = Volatile.Read(ref members.RoleProbes);
        await AdvanceUntilAsync(clock, monitor, _ => false, TimeSpan.FromMilliseconds(100), 10, failAtEnd: false);
        Assert.Equal(roleProbes, Volatile.Read(ref members.RoleProbes));
        Assert.Equal(MemberRole.Primary, monitor.Current.FindMember("pg-test-2")!.Facts.Role);
        Assert.Equal(CheckPhase.Up, monitor.Current.FindMember("pg-test-2")!.FindCheck(PrimaryCheck)!.Phase);

        members.Set("pg-test-2", Primary(timeline: 2));
        await AdvanceUntilAsync(clock, monitor, _ => false, TimeSpan.FromMilliseconds(500), 10, failAtEnd: false);
        Assert.Equal(CheckPhase.Up, monitor.Current.FindMember("pg-test-2")!.FindCheck(PrimaryCheck)!.Phase);
    }

    [Fact]
    public async Task A_monitor_login_refused_by_the_new_holder_leaves_confirmation_to_patroni()
    {
        var members = new ScriptedCluster
        {
            AnswersLikePatroni = true,
            RoleFacts = new() { ["pg-test-1"] = Primary(), ["pg-test-2"] = Replica() },
        };
        var (monitor, clock, _) = await StartAsync(HealthSource.Dcs, members);
        await using var _ = monitor;
        members.SetRole("pg-test-2", new MemberFacts { Reachable = true, Error = "28000: no pg_hba.conf entry for host \"10.10.10.11\", user \"dbuser_monitor\"" });
        lock (members.Facts)
        {
            members.HoldsLock.Clear();
            members.HoldsLock.Add("pg-test-2");
        }
        var before = Volatile.Read(ref members.RoleProbes);
        monitor.OnLeaderKey(Key("pg-test-2", 11, clock));
        await AdvanceUntilAsync(clock, monitor, _ => Volatile.Read(ref members.RoleProbes) > before, TimeSpan.FromMilliseconds(10), 20);
        await AdvanceUntilAsync(clock, monitor, _ => false, TimeSpan.FromMilliseconds(10), 10, failAtEnd: false);
        var afterRefusal = Volatile.Read(ref members.RoleProbes);

        members.Set("pg-test-2", Primary(timeline: 2));
        await AdvanceUntilAsync(clock, monitor, v => v.IsUp("pg-test-2", PrimaryCheck), TimeSpan.FromMilliseconds(10), 20);
        Assert.Equal(afterRefusal, Volatile.Read(ref members.RoleProbes));
        Assert.True(afterRefusal - before <= 2, $"{afterRefusal - before} role reads after a refused login");
    }

    /// <summary>Moves the fake clock in steps until the condition holds; returns the simulated time it took.</summary>
    private static async Task<TimeSpan> AdvanceUntilAsync(FakeTimeProvider clock, ClusterMonitor monitor, Func<ClusterView, bool> condition,
        TimeSpan step, int maxSteps, bool failAtEnd = true)
    {
        var start = clock.GetUtcNow();
        for (var i = 0; i < maxSteps; i++)
        {
            if (condition(monitor.Current))
                return clock.GetUtcNow() - start;
            clock.Advance(step);
            // Timers fired by Advance complete probe loops; wait (bounded) for the view they publish. Steps where no timer
            // was due publish nothing and end at the bound.
            var seen = monitor.Current.Version;
            try
            {
                await monitor.WaitForAsync(v => v.Version > seen, TimeSpan.FromMilliseconds(50));
            }
            catch (TimeoutException)
            {
            }
        }
        if (failAtEnd)
            Assert.Fail($"condition not reached within {step * maxSteps} of simulated time");
        return clock.GetUtcNow() - start;
    }
}
