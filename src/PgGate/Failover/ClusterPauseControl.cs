using System.Diagnostics;
using PgGate.Cluster;

namespace PgGate.Failover;

/// <summary>
/// The switchover pause of one cluster on one node: pauses every participant, optionally fences the old primary in the
/// monitor (switchover without Patroni), and resumes by itself after a hold limit, so a coordinator that dies
/// mid-switchover never leaves clients waiting forever.
/// </summary>
public sealed class ClusterPauseControl
{
    private readonly string _node;
    private readonly ClusterMonitor _monitor;
    private readonly IReadOnlyList<IPauseParticipant> _participants;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private ITimer? _autoResume;
    private bool _fencedHere;

    public ClusterPauseControl(string node, ClusterMonitor monitor, IReadOnlyList<IPauseParticipant> participants, TimeProvider time)
    {
        _node = node;
        _monitor = monitor;
        _participants = participants;
        _time = time;
    }

    public string Cluster => _monitor.Config.Name;

    public ClusterMonitor Monitor => _monitor;

    public bool IsPaused { get; private set; }

    /// <summary>Pauses, fences <paramref name="fence"/> when given, and waits up to <paramref name="drainTimeout"/> for
    /// running pooled transactions. Resumes by itself <paramref name="holdLimit"/> after this call.</summary>
    public async Task<PauseOutcome> PauseAsync(TimeSpan drainTimeout, TimeSpan holdLimit, string? fence, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            IsPaused = true;
            _autoResume?.Dispose();
            _autoResume = _time.CreateTimer(_ => Resume(), null, holdLimit, Timeout.InfiniteTimeSpan);
            if (fence is not null)
            {
                _monitor.Fence(fence);
                _fencedHere = true;
            }
        }

        using var drain = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        drain.CancelAfter(drainTimeout);
        var names = new List<string>(_participants.Count);
        var waits = new Task<int>[_participants.Count];
        for (var i = 0; i < _participants.Count; i++)
        {
            names.Add(_participants[i].Name);
            waits[i] = _participants[i].PauseAsync(drain.Token);
        }
        var still = new Dictionary<string, int>(StringComparer.Ordinal);
        var drained = true;
        for (var i = 0; i < waits.Length; i++)
        {
            var running = await waits[i].ConfigureAwait(false);
            if (running > 0)
                still[names[i]] = running;
            if (running > 0 && !names[i].EndsWith("(relay)", StringComparison.Ordinal))
                drained = false;
        }
        cancellationToken.ThrowIfCancellationRequested();
        return new PauseOutcome(_node, names, still, drained, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>Resumes every participant and lifts a fence set by <see cref="PauseAsync"/>; returns whether it was paused.</summary>
    public bool Resume()
    {
        lock (_gate)
        {
            var was = IsPaused;
            IsPaused = false;
            _autoResume?.Dispose();
            _autoResume = null;
            foreach (var p in _participants)
                p.Resume();
            if (_fencedHere)
            {
                _fencedHere = false;
                _monitor.Unfence();
            }
            return was;
        }
    }
}
