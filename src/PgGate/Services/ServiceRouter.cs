using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using PgGate.Cluster;
using PgGate.Config;
using PgGate.Services.Selection;

namespace PgGate.Services;

/// <summary>
/// Pure routing state of one service on one node: which servers it has in the current cluster view,
/// which take sessions, the waiting queue, and shutting down sessions of servers that left. It owns
/// no sockets; listeners ask it for a server and give the slot back.
/// </summary>
public sealed partial class ServiceRouter
{
    private readonly ClusterConfig _cluster;
    private readonly ServiceConfig _service;
    private readonly CheckSpec _check;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ServerPicker _picker;
    private readonly string _where;
    private readonly Dictionary<string, ServerState> _states = [];
    private readonly object _gate = new();
    private readonly LinkedList<Waiter> _queue = new();
    private volatile ServerSet _servers = ServerSet.Empty;
    private int _queueCapacity;
    private long _queuedTotal;
    private long _queueTimeouts;
    private volatile TaskCompletionSource? _pause;
    private ITimer? _rampTimer;

    public ServiceRouter(ClusterConfig cluster, ServiceConfig service, TimeProvider time, ILogger logger, Random? random = null, string? node = null)
    {
        _where = node is null ? cluster.Name + "-" + service.Name : $"{cluster.Name}-{service.Name} on {node}";
        _cluster = cluster;
        _service = service;
        _check = CheckSpec.For(service);
        _time = time;
        _logger = logger;
        _picker = new ServerPicker(service.Balance, random);
    }

    public ServiceConfig Service => _service;
    public ClusterConfig Cluster => _cluster;

    /// <summary>HAProxy's name for it: <c>&lt;cluster&gt;-&lt;service&gt;</c>.</summary>
    public string Name => _cluster.Name + "-" + _service.Name;

    public ServerSet Servers => _servers;

    public int QueueLength
    {
        get
        {
            lock (_gate)
                return _queue.Count;
        }
    }

    public long QueuedTotal => Interlocked.Read(ref _queuedTotal);
    public long QueueTimeouts => Interlocked.Read(ref _queueTimeouts);

    /// <summary>
    /// Applies a new cluster view: re-evaluates selector and backup over configured and live member
    /// facts, marks servers up or down, starts slow start for servers that came back, closes the
    /// sessions of servers that went down or left the service, and serves waiting clients.
    /// </summary>
    public void Apply(ClusterView view)
    {
        IReadOnlyList<PlannedServer> plan;
        try
        {
            plan = ServerPlan.Build(_service, LiveMemberDocuments.Live(view));
        }
        catch (Exception ex)
        {
            // A selector that fails on live data keeps the previous servers rather than emptying the service.
            LogSelectorFailed(_where, ex.Message);
            return;
        }

        var now = _time.GetUtcNow();
        List<(ServerState State, string Reason)>? leaving = null;
        lock (_gate)
        {
            var old = _servers;
            var entries = ImmutableArray.CreateBuilder<ServerEntry>(plan.Count);
            foreach (var p in plan)
            {
                var member = view.FindMember(p.MemberName);
                if (member is null)
                    continue;
                if (!_states.TryGetValue(p.MemberName, out var state))
                {
                    state = new ServerState(_service.Name, member.Config, WeightOf(member.Config));
                    _states[p.MemberName] = state;
                }
                var check = member.FindCheck(_check);
                var up = check?.IsUp ?? false;
                var before = old.Find(p.MemberName);
                if (up && before is { IsUp: false } && check?.LastChange is not null)
                    state.RampFrom = now;     // back from down: ramp up (never at start-up, as HAProxy)
                entries.Add(new ServerEntry(state, p.IsBackup, up));
            }

            var next = new ServerSet(entries.MoveToImmutable(), _service.AllBackups, view.Version);
            foreach (var before in old.Servers)
            {
                var after = next.Find(before.Name);
                if (after is null)
                    (leaving ??= []).Add((before.State, $"{before.Name} left service {Name}"));
                else if (before.IsUp && !after.IsUp)
                    (leaving ??= []).Add((before.State, $"{before.Name} was marked down in service {Name}"));
            }
            if (next.UsingBackups != old.UsingBackups || next.Usable.Length != old.Usable.Length || !SameUsable(old, next))
                LogServersChanged(_where, Describe(next));
            _servers = next;
            _queueCapacity = QueueCapacity(next);
            DispatchLocked();
        }

        if (leaving is not null && _service.Options.ShutdownSessionsOnMarkedDown)
        {
            foreach (var (state, reason) in leaving)
            {
                var closed = state.ShutdownSessions(reason);
                if (closed > 0)
                    LogSessionsShutdown(_where, state.Name, closed, reason);
            }
        }
    }

    /// <summary>
    /// Reserves a server for a new client: at once when one has a free slot; otherwise the client waits
    /// in FIFO order up to the queue timeout, for a slot or for a server to come up (so a client that
    /// connects during a failover is served when the new primary is up rather than refused).
    /// </summary>
    public async ValueTask<RouteResult> RouteAsync(IReadOnlyCollection<ServerState>? exclude, CancellationToken cancellationToken)
    {
        // A switchover holds new sessions here (they stay connected, waiting) until the new leader is in the view.
        if (_pause is { } pause)
            await pause.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        Waiter waiter;
        lock (_gate)
        {
            if (_queue.Count == 0)
            {
                var outcome = _picker.TryPick(_servers, _service.Options, _time.GetUtcNow(), exclude, out var picked);
                if (outcome == PickOutcome.Picked)
                    return RouteResult.To(picked!);
            }
            if (_queueCapacity > 0 && _queue.Count >= _queueCapacity)
                return RouteResult.Refused(Busy($"its queue is full ({_queue.Count} clients waiting)"));
            waiter = new Waiter(exclude);
            waiter.Node = _queue.AddLast(waiter);
            Interlocked.Increment(ref _queuedTotal);
            ScheduleRampDispatchLocked(_time.GetUtcNow());
        }

        using var timeout = new CancellationTokenSource(_service.QueueTimeout, _time);
        await using (timeout.Token.UnsafeRegister(static w => ((Waiter)w!).Completion.TrySetResult(null), waiter).ConfigureAwait(false))
        await using (cancellationToken.UnsafeRegister(static w => ((Waiter)w!).Completion.TrySetResult(null), waiter).ConfigureAwait(false))
        {
            var server = await waiter.Completion.Task.ConfigureAwait(false);
            if (server is not null)
                return RouteResult.To(server);
        }

        lock (_gate)
        {
            if (waiter.Node?.List is not null)
                _queue.Remove(waiter.Node);
            // The dispatcher may have assigned a server just as the timeout fired.
            if (waiter.Assigned is { } late)
                return RouteResult.To(late);
        }
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _queueTimeouts);
        var waited = _service.QueueTimeout.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        return _servers.Usable.IsEmpty
            ? RouteResult.Refused(new Refusal("57P03",
                $"service {Name} has no server up: no member passes check {_service.Check} (waited {waited}s)",
                Describe(_servers), "The cluster may be failing over; retry shortly."))
            : RouteResult.Refused(Busy($"every server is at its maxconn and the wait in the queue reached {waited}s"));
    }

    /// <summary>True while <see cref="Pause"/> holds new sessions.</summary>
    public bool IsPaused => _pause is not null;

    /// <summary>Holds every new session before routing until <see cref="Resume"/>; sessions already relaying go on.</summary>
    public void Pause()
    {
        lock (_gate)
            _pause ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Lets held sessions route (to the servers of the view current at that moment).</summary>
    public void Resume()
    {
        TaskCompletionSource? pause;
        lock (_gate)
        {
            pause = _pause;
            _pause = null;
        }
        pause?.TrySetResult();
    }

    /// <summary>Gives back a slot taken by <see cref="RouteAsync"/> and serves the next waiting client.</summary>
    public void Release(ServerState server)
    {
        server.Release();
        lock (_gate)
        {
            if (_queue.Count > 0)
                DispatchLocked();
        }
    }

    private void DispatchLocked()
    {
        var now = _time.GetUtcNow();
        while (_queue.First is { } node)
        {
            var w = node.Value;
            if (w.Completion.Task.IsCompleted)
            {
                _queue.RemoveFirst();
                continue;
            }
            if (_picker.TryPick(_servers, _service.Options, now, w.Exclude, out var picked) != PickOutcome.Picked)
                break;
            _queue.RemoveFirst();
            w.Assigned = picked;
            if (!w.Completion.TrySetResult(picked))
            {
                // Timed out in between: the waiter takes the slot from Assigned, see RouteAsync.
            }
        }
        ScheduleRampDispatchLocked(now);
    }

    /// <summary>
    /// Slow start raises a returning server's maxconn with time, not with releases, so while clients wait a timer
    /// dispatches them when its next slot opens (HAProxy's warm-up task does the same). Without it, a client queued behind
    /// a server that just came back would wait for someone to leave, or time out with "at capacity".
    /// </summary>
    private void ScheduleRampDispatchLocked(DateTimeOffset now)
    {
        var options = _service.Options;
        if (_queue.Count == 0 || _rampTimer is not null || options.SlowStart <= TimeSpan.Zero || options.MaxConn <= 0)
            return;
        DateTimeOffset? next = null;
        foreach (var entry in _servers.Usable)
        {
            if (entry.State.RampFrom is not { } from)
                continue;
            // Its effective maxconn, ceil(maxconn * elapsed / slowstart), exceeds the sessions it has once elapsed passes
            // slowstart * active / maxconn.
            var opensAt = from + options.SlowStart * ((double)entry.State.Active / options.MaxConn) + TimeSpan.FromMilliseconds(1);
            if (next is null || opensAt < next)
                next = opensAt;
        }
        if (next is not { } at)
            return;
        var due = at - now < MinRampDispatchStep ? MinRampDispatchStep : at - now;
        _rampTimer = _time.CreateTimer(static r => ((ServiceRouter)r!).OnRampTimer(), this, due, Timeout.InfiniteTimeSpan);
    }

    private static readonly TimeSpan MinRampDispatchStep = TimeSpan.FromMilliseconds(10);

    private void OnRampTimer()
    {
        lock (_gate)
        {
            _rampTimer?.Dispose();
            _rampTimer = null;
            DispatchLocked();
        }
    }

    private Refusal Busy(string why) => new("53300", $"service {Name} is at capacity: {why}", Describe(_servers),
        "Raise the service's maxconn/maxqueue or the cluster's capacity, or retry later.");

    private int WeightOf(MemberConfig member) => member.Vars.ContainsKey("pg_weight") || member.Vars.ContainsKey("weight")
        ? member.Weight
        : _service.Options.Weight;

    // HAProxy's maxqueue is per server; the service's queue holds that many per server taking sessions, or per the
    // server it waits for while none is up (0: unbounded).
    private int QueueCapacity(ServerSet set) =>
        _service.Options.MaxQueue <= 0 ? 0 : _service.Options.MaxQueue * Math.Max(1, set.Usable.Length);

    private static bool SameUsable(ServerSet a, ServerSet b)
    {
        if (a.Usable.Length != b.Usable.Length)
            return false;
        for (var i = 0; i < a.Usable.Length; i++)
        {
            if (!ReferenceEquals(a.Usable[i].State, b.Usable[i].State))
                return false;
        }
        return true;
    }

    public static string Describe(ServerSet set)
    {
        if (set.Servers.IsEmpty)
            return "no servers";
        var parts = new List<string>(set.Servers.Length);
        foreach (var s in set.Servers)
        {
            var role = s.IsBackup ? " backup" : "";
            var state = set.IsUsable(s.State) ? "serving" : s.IsUp ? "up, standby" : "down";
            parts.Add($"{s.Name}{role} {state}");
        }
        return string.Join("; ", parts);
    }

    private sealed class Waiter(IReadOnlyCollection<ServerState>? exclude)
    {
        public IReadOnlyCollection<ServerState>? Exclude { get; } = exclude;
        public TaskCompletionSource<ServerState?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public LinkedListNode<Waiter>? Node { get; set; }
        public ServerState? Assigned { get; set; }
    }
}
