using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using PgGate.Cluster.Dcs;
using PgGate.Config;

namespace PgGate.Cluster;

/// <summary>
/// Owns the truth about a cluster's members: probes each member on HAProxy's timers and publishes an
/// immutable <see cref="ClusterView"/> on every probe. Nothing else probes. <see cref="ViewChanged"/>
/// fires only when something routing depends on changed (a check went up or down, a role or leader
/// changed, a member became reachable or not), so listeners can react at once.
/// </summary>
public sealed partial class ClusterMonitor : IAsyncDisposable
{
    private const int RecentResults = 10;

    /// <summary>How often candidates are probed while the cluster has no confirmed leader.</summary>
    public static readonly TimeSpan TransitionInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>How often the new holder of the DCS leader key is probed until it reports itself primary.</summary>
    public static readonly TimeSpan ConfirmInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// How often the new key holder's PostgreSQL is asked its role directly (see <see cref="IMemberProbeFactory.CreateRoleProbe"/>);
    /// its Patroni is then probed only every <see cref="TransitionInterval"/>, to leave Patroni's REST API (one Python
    /// process, busy promoting) alone.
    /// </summary>
    public static readonly TimeSpan RoleConfirmInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>How long a new key holder is probed at <see cref="ConfirmInterval"/> before the normal timers resume.</summary>
    public static readonly TimeSpan ConfirmLimit = TimeSpan.FromSeconds(30);

    /// <summary>How long Patroni's REST API may still say "replica" after PostgreSQL itself said "primary".</summary>
    public static readonly TimeSpan PatroniLagGrace = TimeSpan.FromSeconds(3);

    /// <summary>A leader hunt stops hurrying after this long; then the normal timers apply again.</summary>
    public static readonly TimeSpan HuntLimit = TimeSpan.FromSeconds(60);

    private readonly ClusterConfig _config;
    private readonly IMemberProbeFactory _probes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CheckSpec[] _checks;
    private readonly CheckPath[] _checkPaths;
    private readonly ServerOptions[] _checkTimers;
    private readonly MemberState[] _members;
    private readonly object _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly List<Task> _roleProbeTasks = [];
    private volatile ClusterView _current;
    private long _version;
    private string? _lastConflict;
    private DateTimeOffset? _huntUntil;
    private LeaderKeyState? _leaderKey;
    private string? _confirming;
    private DateTimeOffset _confirmUntil;
    private bool _huntExhausted;
    private volatile string? _fenced;

    public ClusterMonitor(ClusterConfig config, IMemberProbeFactory probes, TimeProvider time, ILogger<ClusterMonitor> logger)
    {
        _config = config;
        _probes = probes;
        _time = time;
        _logger = logger;

        // One check per distinct (path, rise, fall); its interval is the shortest any service using it asks for.
        var specs = new List<CheckSpec>();
        var timers = new List<ServerOptions>();
        foreach (var service in config.Services)
        {
            var spec = CheckSpec.For(service);
            var at = specs.IndexOf(spec);
            if (at < 0)
            {
                specs.Add(spec);
                timers.Add(service.Options);
            }
            else
            {
                timers[at] = Faster(timers[at], service.Options);
            }
        }
        _checks = [.. specs];
        _checkPaths = new CheckPath[_checks.Length];
        for (var i = 0; i < _checks.Length; i++)
            _checkPaths[i] = _checks[i].Path;
        _checkTimers = [.. timers];

        _members = new MemberState[config.Members.Count];
        for (var i = 0; i < _members.Length; i++)
            _members[i] = new MemberState(config.Members[i], _checks) { RoleProbe = probes.CreateRoleProbe(config, config.Members[i]) };
        _current = BuildView(MemberFactsSnapshot());
    }

    public ClusterConfig Config => _config;

    /// <summary>The newest view; replaced on every probe.</summary>
    public ClusterView Current => _current;

    /// <summary>The checks this monitor runs on every member.</summary>
    public IReadOnlyList<CheckSpec> Checks => _checks;

    /// <summary>Raised (on a monitor thread) when routing-relevant state changed.</summary>
    public event Action<ClusterView>? ViewChanged;

    public void Start()
    {
        lock (_loops)
        {
            if (_loops.Count > 0)
                return;
            for (var i = 0; i < _members.Length; i++)
            {
                var index = i;
                _loops.Add(Task.Run(() => ProbeLoopAsync(index, _stop.Token)));
            }
        }
        WarmUpRoleProbes();
    }

    /// <summary>Waits until the current view satisfies <paramref name="condition"/>, or the timeout passes.</summary>
    public async Task<ClusterView> WaitForAsync(Func<ClusterView, bool> condition, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var tcs = new TaskCompletionSource<ClusterView>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChange(ClusterView v)
        {
            if (condition(v))
                tcs.TrySetResult(v);
        }
        ProbeCompleted += OnChange;
        try
        {
            var now = _current;
            if (condition(now))
                return now;
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout);
            using var reg = cts.Token.Register(() => tcs.TrySetCanceled());
            try
            {
                return await tcs.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"cluster {_config.Name}: condition not reached within {timeout.TotalSeconds:0.#}s");
            }
        }
        finally
        {
            ProbeCompleted -= OnChange;
        }
    }

    // Every published view, for waiters; ViewChanged is the routing-relevant subset.
    private event Action<ClusterView>? ProbeCompleted;

    private async Task ProbeLoopAsync(int index, CancellationToken stop)
    {
        var state = _members[index];
        await using var probe = _probes.Create(_config, state.Config);
        while (!stop.IsCancellationRequested)
        {
            ProbeResult result;
            var startedAt = _time.GetUtcNow();
            try
            {
                result = await probe.ProbeAsync(_checkPaths, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A probe that throws is a failed probe, never a dead monitor.
                result = new ProbeResult(new MemberFacts { Error = ex.Message, ObservedAt = _time.GetUtcNow() }, null);
            }

            TimeSpan next;
            List<CancellationTokenSource>? wake;
            using var sleep = CancellationTokenSource.CreateLinkedTokenSource(stop);
            lock (_gate)
            {
                if (IsOlderThanConfirmedPrimary(state, result.Facts, startedAt))
                {
                    next = ConfirmInterval;
                    wake = null;
                }
                else
                {
                    state.ConfirmedPrimaryAt = null;
                    next = Record(index, result, out wake);
                }
                state.Sleep = sleep;
            }
            // Woken members probe on their own loops, not nested in this one.
            if (wake is not null)
                _ = Task.Run(() => WakeAll(wake), CancellationToken.None);
            try
            {
                await Task.Delay(next, _time, sleep.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                // Woken early: a leader change is being hunted down.
            }
            catch (OperationCanceledException)
            {
                return;
            }
            finally
            {
                lock (_gate)
                    state.Sleep = null;
            }
        }
    }

    private static void WakeAll(List<CancellationTokenSource> sleepers)
    {
        foreach (var s in sleepers)
        {
            try
            {
                s.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // That loop already woke up on its own.
            }
        }
    }

    /// <summary>The leader key as the DCS watch saw it (Patroni's <c>/&lt;namespace&gt;/&lt;cluster&gt;/leader</c>).</summary>
    public LeaderKeyState? LeaderKey => _leaderKey;

    /// <summary>
    /// Takes a change of the DCS leader key (from <see cref="EtcdLeaderWatch.Changed"/>): members that no longer hold the
    /// key lose their leader checks at once (writes stop going to them this instant, not after <c>fall</c> checks), every
    /// member is probed now, and the new holder is probed every <see cref="ConfirmInterval"/> until it reports itself
    /// primary, when it takes the leader checks without waiting for <c>rise</c>.
    /// </summary>
    public void OnLeaderKey(LeaderKeyState state)
    {
        lock (_gate)
        {
            var previous = _leaderKey;
            _leaderKey = state;
            if (!state.IsCurrent || previous is { IsCurrent: true } && previous.Leader == state.Leader)
            {
                if (!state.IsCurrent && previous is { IsCurrent: true })
                    LogLeaderKey(_config.Name, state.ToString());
                return;
            }
            LogLeaderKey(_config.Name, state.ToString());
            var now = _time.GetUtcNow();
            var changed = false;
            for (var i = 0; i < _members.Length; i++)
            {
                var m = _members[i];
                if (m.Config.Name == state.Leader)
                    continue;
                for (var c = 0; c < _checks.Length; c++)
                {
                    if (_checks[c].Path.IsLeaderPath && m.Health[c].IsUp && m.Health[c].ForceDown())
                    {
                        m.LastChange[c] = now;
                        changed = true;
                        LogCheckChanged(m.Config.Name, _checks[c].Path.Raw, "UP", "DOWN", "it no longer holds the leader key");
                    }
                }
            }
            _confirming = state.Leader;
            _confirmUntil = now + ConfirmLimit;
            var view = BuildView(MemberFactsSnapshot());
            _current = view;
            // Routers apply a view before waiters hear of it: a waiter (a switchover resuming clients) must find it routed.
            if (changed || previous?.Leader != state.Leader)
                ViewChanged?.Invoke(view);
            ProbeCompleted?.Invoke(view);
        }
        ProbeAllNow();
        StartRoleConfirmation(state.Leader);
    }

    /// <summary>
    /// Reads the new key holder's role straight from PostgreSQL every <see cref="RoleConfirmInterval"/> (when the factory
    /// offers a role probe), so writes reach it as soon as it leaves recovery rather than when its Patroni REST API
    /// says so, which on a busy node comes hundreds of milliseconds later. Runs beside the member's own probe loop.
    /// </summary>
    private void StartRoleConfirmation(string? leader)
    {
        var index = Array.FindIndex(_members, m => m.Config.Name == leader);
        if (index < 0 || _stop.IsCancellationRequested)
            return;
        var state = _members[index];
        if (state.RoleProbe is null || state.RoleProbeRefused || Interlocked.Exchange(ref state.RoleConfirmationRunning, 1) == 1)
            return;
        TrackRoleProbeTask(Task.Run(() => ConfirmRoleAsync(index, _stop.Token)));
    }

    /// <summary>
    /// One role probe per member at start: it opens the connection the confirmation reuses (a new backend, its
    /// authentication and the first-call JIT cost some hundred milliseconds exactly when a failover needs speed) and
    /// tells the operator at once when the monitor user may not log in.
    /// </summary>
    private void WarmUpRoleProbes()
    {
        for (var i = 0; i < _members.Length; i++)
        {
            if (_members[i].RoleProbe is null)
                continue;
            var index = i;
            TrackRoleProbeTask(Task.Run(() => WarmUpRoleProbeAsync(index, _stop.Token)));
        }
    }

    private void TrackRoleProbeTask(Task task)
    {
        lock (_roleProbeTasks)
        {
            _roleProbeTasks.RemoveAll(t => t.IsCompleted);
            _roleProbeTasks.Add(task);
        }
    }

    private async Task WarmUpRoleProbeAsync(int index, CancellationToken stop)
    {
        var state = _members[index];
        try
        {
            await state.RoleProbeLock.WaitAsync(stop).ConfigureAwait(false);
            try
            {
                await ReadRoleAsync(state, stop).ConfigureAwait(false);
            }
            finally
            {
                state.RoleProbeLock.Release();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task ConfirmRoleAsync(int index, CancellationToken stop)
    {
        var state = _members[index];
        try
        {
            await state.RoleProbeLock.WaitAsync(stop).ConfigureAwait(false);
            try
            {
                while (!stop.IsCancellationRequested && !state.RoleProbeRefused)
                {
                    lock (_gate)
                    {
                        if (_confirming != state.Config.Name || _time.GetUtcNow() > _confirmUntil)
                            return;
                    }

                    var startedAt = _time.GetUtcNow();
                    var facts = await ReadRoleAsync(state, stop).ConfigureAwait(false);
                    if (facts is { Reachable: true, Running: true, Role: MemberRole.Primary })
                    {
                        ApplyConfirmedPrimary(index, facts, startedAt);
                        return;
                    }
                    await Task.Delay(RoleConfirmInterval, _time, stop).ConfigureAwait(false);
                }
            }
            finally
            {
                state.RoleProbeLock.Release();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            Volatile.Write(ref state.RoleConfirmationRunning, 0);
        }
    }

    /// <summary>One read through the member's role probe (the caller holds its lock); marks a refused login.</summary>
    private async Task<MemberFacts> ReadRoleAsync(MemberState state, CancellationToken stop)
    {
        MemberFacts facts;
        try
        {
            facts = (await state.RoleProbe!.ProbeAsync(_checkPaths, stop).ConfigureAwait(false)).Facts;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            facts = new MemberFacts { Error = ex.Message, ObservedAt = _time.GetUtcNow() };
        }
        LogRoleRead(state.Config.Name, Describe(facts));
        if (facts.Error is { } error && IsRefusedLogin(error) && !state.RoleProbeRefused)
        {
            // Wrong password or no pg_hba.conf entry for the monitor user from here: asking again every 20 ms would
            // only fill the server's log. Patroni's answer confirms the leader instead.
            state.RoleProbeRefused = true;
            LogRoleProbeRefused(state.Config.Name, error);
        }
        return facts;
    }

    /// <summary>
    /// After PostgreSQL itself confirmed a promotion, a Patroni answer that still says "replica" is older news: asked
    /// for before the promotion, or answered by a REST API that has not caught up (for at most <see cref="PatroniLagGrace"/>).
    /// Recording it would flap the role and fail the new leader's checks.
    /// </summary>
    private bool IsOlderThanConfirmedPrimary(MemberState state, MemberFacts facts, DateTimeOffset startedAt)
    {
        if (state.ConfirmedPrimaryAt is not { } confirmed)
            return false;
        if (startedAt < confirmed)
            return true;
        return facts is { Reachable: true, Role: MemberRole.Replica }
            && _leaderKey is { IsCurrent: true } key && key.Leader == state.Config.Name
            && _time.GetUtcNow() - confirmed < PatroniLagGrace;
    }

    // SQLSTATE class 28 (invalid authorization): the monitor user may not log in to this member.
    private static bool IsRefusedLogin(string error) => error.StartsWith("28", StringComparison.Ordinal);

    private void ApplyConfirmedPrimary(int index, MemberFacts sql, DateTimeOffset startedAt)
    {
        List<CancellationTokenSource>? wake;
        lock (_gate)
        {
            var state = _members[index];
            if (_confirming != state.Config.Name || _leaderKey is not { IsCurrent: true } key || key.Leader != state.Config.Name)
                return;
            // Patroni's tags and replication list stay; the role and position are PostgreSQL's own, newer than Patroni's.
            var merged = state.RawFacts with
            {
                Reachable = true,
                Running = true,
                Role = MemberRole.Primary,
                Lsn = sql.Lsn ?? state.RawFacts.Lsn,
                Timeline = sql.Timeline ?? state.RawFacts.Timeline,
                Error = null,
            };
            state.ConfirmedPrimaryAt = startedAt;
            LogConfirmedBySql(state.Config.Name, (long)(_time.GetUtcNow() - key.ObservedAt).TotalMilliseconds);
            _ = Record(index, new ProbeResult(merged, null), out wake);
        }
        if (wake is not null)
            WakeAll(wake);
    }

    /// <summary>The member fenced by <see cref="Fence"/>, if any.</summary>
    public string? Fenced => _fenced;

    /// <summary>
    /// Takes the leader checks from <paramref name="member"/> now and keeps them failing until <see cref="Unfence"/>: a
    /// switchover without Patroni demotes the old primary from the view before the promote command runs, so no write
    /// reaches it while two members may both report themselves primary.
    /// </summary>
    public void Fence(string member)
    {
        lock (_gate)
        {
            _fenced = member;
            var now = _time.GetUtcNow();
            var changed = false;
            foreach (var m in _members)
            {
                if (m.Config.Name != member)
                    continue;
                for (var c = 0; c < _checks.Length; c++)
                {
                    if (_checks[c].Path.IsLeaderPath && m.Health[c].IsUp && m.Health[c].ForceDown())
                    {
                        m.LastChange[c] = now;
                        changed = true;
                        LogCheckChanged(m.Config.Name, _checks[c].Path.Raw, "UP", "DOWN", "it was fenced for a switchover");
                    }
                }
            }
            var view = BuildView(MemberFactsSnapshot());
            _current = view;
            if (changed)
                ViewChanged?.Invoke(view);
            ProbeCompleted?.Invoke(view);
        }
        ProbeAllNow();
    }

    /// <summary>Ends a <see cref="Fence"/>; the member's checks decide again from its next probe.</summary>
    public void Unfence()
    {
        _fenced = null;
        ProbeAllNow();
    }

    /// <summary>Probes every member now instead of at its next timer (a DCS leader change, an operator's request).</summary>
    public void ProbeAllNow()
    {
        List<CancellationTokenSource> wake = [];
        lock (_gate)
        {
            foreach (var m in _members)
            {
                if (m.Sleep is { } s)
                    wake.Add(s);
            }
        }
        if (wake.Count > 0)
            _ = Task.Run(() => WakeAll(wake), CancellationToken.None);
    }

    // Called under _gate: applies one probe, publishes, and returns the delay to this member's next probe, plus the
    // sleeping loops to wake when a leader hunt starts.
    private TimeSpan Record(int index, ProbeResult result, out List<CancellationTokenSource>? wake)
    {
        wake = null;
        var state = _members[index];
        var previous = _current;
        var now = _time.GetUtcNow();
        state.RawFacts = result.Facts with { ObservedAt = now };

        var facts = MemberFactsSnapshot();
        var mine = facts[index];
        var changed = false;
        var passed = result.CheckResults;
        for (var c = 0; c < _checks.Length; c++)
        {
            var path = _checks[c].Path;
            var ok = passed is not null ? passed[c] : PatroniCheckRules.Passes(path, mine);
            // With the DCS source, a leader check passes only on the holder of the leader key (a member that says it is
            // primary without the key, e.g. an old primary that came back, gets no writes). If etcd is unreachable the
            // probe's own answer stands (Patroni answers /primary only while it holds the lock).
            if (path.IsLeaderPath && _leaderKey is { IsCurrent: true } key && key.Leader != state.Config.Name)
                ok = false;
            // A member fenced for a promote-command switchover takes no writes, whatever it says about itself.
            if (path.IsLeaderPath && _fenced == state.Config.Name)
                ok = false;
            // Patroni answers /primary with 200 from the moment it takes the leader lock, before PostgreSQL has left
            // recovery; writes routed then would fail with 25006. The member's own PostgreSQL has to say primary too, so
            // Patroni's state has to be "running": with any other ("unknown" after a crash, "starting" while it restarts
            // PostgreSQL as a standby) the role it reports is its own memory, not PostgreSQL's answer.
            if (path.IsLeaderPath && ok && passed is not null && mine.Reachable && (mine.Role == MemberRole.Replica || !mine.Running))
                ok = false;
            ref var health = ref state.Health[c];
            var wasUp = health.IsUp;
            var wasPhase = health.Phase;
            bool flipped;
            if (path.IsLeaderPath && ok && mine.IsLeader)
            {
                // A leader confirmed by its check and by its facts takes writes now, not after `rise` checks, and no
                // other member keeps a leader check: writes never go to two members.
                flipped = health.ForceUp();
                for (var other = 0; other < _members.Length; other++)
                {
                    if (other != index && _members[other].Health[c].IsUp && _members[other].Health[c].ForceDown())
                    {
                        _members[other].LastChange[c] = now;
                        changed = true;
                        LogCheckChanged(_members[other].Config.Name, path.Raw, "UP", "DOWN", $"{state.Config.Name} leads now");
                    }
                }
            }
            else if (path.IsLeaderPath && !ok && wasUp && mine.Reachable && ((mine.Running && !mine.IsLeader) || mine.Role == MemberRole.Replica))
            {
                // It answers and says it is not the leader (demoted, or a split brain resolved against it), or it holds the
                // key but its PostgreSQL runs in recovery (Patroni restarts a crashed primary as a standby, which accepts
                // connections while Patroni still calls it "starting", before promoting it again): no more writes, now,
                // rather than `fall` checks of read-only errors later.
                flipped = health.ForceDown();
            }
            else
            {
                flipped = health.Record(ok);
            }
            if (flipped)
            {
                state.LastChange[c] = now;
                changed = true;
                LogCheckChanged(state.Config.Name, path.Raw, wasPhase == CheckPhase.Init ? "INIT" : wasUp ? "UP" : "DOWN",
                    health.IsUp ? "UP" : "DOWN", Describe(mine));
            }
            state.Recent[c] = AppendRecent(state.Recent[c], ok);
        }

        var view = BuildView(facts);
        var roleChanged = false;
        for (var i = 0; i < view.Members.Length; i++)
        {
            var before = previous.Members[i].Facts;
            var after = view.Members[i].Facts;
            if (before.Reachable != after.Reachable || before.Role != after.Role || before.IsLeader != after.IsLeader || before.Running != after.Running)
            {
                changed = true;
                roleChanged |= before.Role != after.Role || before.IsLeader != after.IsLeader;
                LogFactsChanged(view.Members[i].Name, Describe(before), Describe(after));
            }
        }

        // A leader hunt: while no member passes a leader check with full health (none does, or the leader has started
        // failing it), the other members are probed every TransitionInterval, so a promotion is seen within that rather
        // than after downinter + rise checks.
        var healthyLeader = AnyHealthyLeader();
        if (healthyLeader)
            _huntExhausted = false;
        if (_huntUntil is null && HasLeaderChecks && (roleChanged || (!healthyLeader && !_huntExhausted)))
        {
            _huntUntil = now + HuntLimit;
            wake = [];
            for (var i = 0; i < _members.Length; i++)
            {
                if (i != index && _members[i].Sleep is { } sleeper)
                    wake.Add(sleeper);
            }
        }
        else if (_huntUntil is { } until && (healthyLeader || now > until))
        {
            // A cluster that stays leaderless (all down, a standby cluster) is not probed in a hurry forever.
            _huntExhausted = !healthyLeader;
            _huntUntil = null;
        }

        _current = view;
        if (changed)
            ViewChanged?.Invoke(view);
        ProbeCompleted?.Invoke(view);

        var next = TimeSpan.MaxValue;
        var leadsNow = false;
        for (var c = 0; c < _checks.Length; c++)
        {
            var interval = state.Health[c].NextInterval(_checkTimers[c]);
            if (interval < next)
                next = interval;
            leadsNow |= _checks[c].Path.IsLeaderPath && state.Health[c].IsUp;
        }
        if (_checks.Length == 0)
            next = ServerOptions.Norm.Inter;
        // The failing leader keeps its own fastinter (fall is not shortened); everyone else is a candidate.
        if (_huntUntil is not null && !leadsNow && next > TransitionInterval)
            next = TransitionInterval;
        // The new holder of the leader key is probed until it says it is primary: writes wait only for that.
        if (_confirming == state.Config.Name)
        {
            if (leadsNow || now > _confirmUntil)
                _confirming = null;
            else
            {
                var confirmEvery = state.RoleProbe is not null && !state.RoleProbeRefused ? TransitionInterval : ConfirmInterval;
                if (next > confirmEvery)
                    next = confirmEvery;
            }
        }
        return next;
    }

    private bool HasLeaderChecks
    {
        get
        {
            foreach (var c in _checks)
            {
                if (c.Path.IsLeaderPath)
                    return true;
            }
            return false;
        }
    }

    private bool AnyHealthyLeader()
    {
        for (var c = 0; c < _checks.Length; c++)
        {
            if (!_checks[c].Path.IsLeaderPath)
                continue;
            foreach (var m in _members)
            {
                if (m.Health[c].Phase == CheckPhase.Up)
                    return true;
            }
        }
        return false;
    }

    private MemberFacts[] MemberFactsSnapshot()
    {
        var raw = new MemberFacts[_members.Length];
        for (var i = 0; i < raw.Length; i++)
            raw[i] = _members[i].RawFacts;
        if (_leaderKey is { IsCurrent: true } key)
        {
            // The DCS decides who leads; the probes say whether it is ready (its role) — the second opinion.
            for (var i = 0; i < raw.Length; i++)
                raw[i] = raw[i] with { IsLeader = raw[i].Reachable && _members[i].Config.Name == key.Leader };
        }
        var resolved = ClusterFactsResolver.Resolve(_config, raw, deriveLeader: _config.Health.Source == HealthSource.Sql, out var conflict);
        if (conflict != _lastConflict)
        {
            _lastConflict = conflict;
            if (conflict is not null)
                LogSplitBrain(_config.Name, conflict);
        }
        return resolved;
    }

    private ClusterView BuildView(MemberFacts[] facts)
    {
        var members = ImmutableArray.CreateBuilder<MemberView>(_members.Length);
        for (var i = 0; i < _members.Length; i++)
        {
            var state = _members[i];
            var checks = ImmutableArray.CreateBuilder<CheckStatus>(_checks.Length);
            for (var c = 0; c < _checks.Length; c++)
            {
                var h = state.Health[c];
                checks.Add(new CheckStatus
                {
                    Spec = _checks[c],
                    IsUp = h.IsUp,
                    Phase = h.Phase,
                    Health = h.Health,
                    LastChange = state.LastChange[c],
                    Recent = state.Recent[c],
                });
            }
            members.Add(new MemberView { Config = state.Config, Facts = facts[i], Checks = checks.MoveToImmutable() });
        }
        return new ClusterView(_config, Interlocked.Increment(ref _version), _time.GetUtcNow(), members.MoveToImmutable())
        {
            LeaderKeyHolder = _leaderKey is { IsCurrent: true } key ? key.Leader : null,
        };
    }

    private static string Describe(MemberFacts f)
    {
        if (!f.Reachable)
            return f.Error is null ? "not checked" : "unreachable: " + f.Error;
        var role = LiveRoles.LiveName(f) ?? "unknown role";
        var text = f.IsLeader ? role + " (leader)" : role;
        if (!f.Running)
            text += ", not running";
        if (f.LagBytes is { } lag && f.Role == MemberRole.Replica)
            text += $", lag {lag} B";
        return text;
    }

    private static string AppendRecent(string recent, bool passed)
    {
        var s = recent + (passed ? '+' : '-');
        return s.Length > RecentResults ? s[^RecentResults..] : s;
    }

    private static ServerOptions Faster(ServerOptions a, ServerOptions b) => a with
    {
        Inter = a.Inter < b.Inter ? a.Inter : b.Inter,
        FastInter = a.FastInter < b.FastInter ? a.FastInter : b.FastInter,
        DownInter = a.DownInter < b.DownInter ? a.DownInter : b.DownInter,
        CheckTimeout = a.CheckTimeout < b.CheckTimeout ? a.CheckTimeout : b.CheckTimeout,
    };

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        Task[] loops;
        lock (_loops)
            loops = [.. _loops];
        lock (_roleProbeTasks)
            loops = [.. loops, .. _roleProbeTasks];
        try
        {
            await Task.WhenAll(loops).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        foreach (var m in _members)
        {
            if (m.RoleProbe is { } roleProbe)
                await roleProbe.DisposeAsync().ConfigureAwait(false);
        }
        _stop.Dispose();
    }

    private sealed class MemberState
    {
        public MemberState(MemberConfig config, CheckSpec[] checks)
        {
            Config = config;
            Health = new CheckHealth[checks.Length];
            LastChange = new DateTimeOffset?[checks.Length];
            Recent = new string[checks.Length];
            for (var i = 0; i < checks.Length; i++)
            {
                Health[i] = CheckHealth.Create(checks[i].Rise, checks[i].Fall);
                Recent[i] = "";
            }
        }

        public MemberConfig Config { get; }
        public MemberFacts RawFacts { get; set; } = MemberFacts.Unknown;

        /// <summary>Reads PostgreSQL's own role while a new leader is confirmed; its connection stays open between uses.</summary>
        public IMemberProbe? RoleProbe { get; init; }

        /// <summary>One user of <see cref="RoleProbe"/> at a time (the start-up warm-up, a confirmation).</summary>
        public SemaphoreSlim RoleProbeLock { get; } = new(1, 1);

        /// <summary>1 while <see cref="ConfirmRoleAsync"/> runs for this member.</summary>
        public int RoleConfirmationRunning;

        /// <summary>The member's PostgreSQL refused the monitor user's login; its role is not read directly again.</summary>
        public volatile bool RoleProbeRefused;

        /// <summary>When the probe that read PostgreSQL's own "primary" started; older Patroni answers are ignored.</summary>
        public DateTimeOffset? ConfirmedPrimaryAt { get; set; }

        /// <summary>Cancels the loop's current wait between probes; null while it is probing.</summary>
        public CancellationTokenSource? Sleep { get; set; }
        public CheckHealth[] Health { get; }
        public DateTimeOffset?[] LastChange { get; }
        public string[] Recent { get; }
    }
}
