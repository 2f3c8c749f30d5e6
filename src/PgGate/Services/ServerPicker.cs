using PgGate.Config;

namespace PgGate.Services;

public enum PickOutcome
{
    Picked,

    /// <summary>No server of the service is up (nothing to queue for).</summary>
    NoServer,

    /// <summary>Servers are up but all at their maxconn: the client may queue.</summary>
    AllBusy,
}

/// <summary>
/// HAProxy's balancing over a service's usable servers, with slow start and per-server maxconn:
/// <c>roundrobin</c> (smooth weighted, so weights interleave), <c>leastconn</c> (fewest sessions per
/// weight) and <c>random</c> (two weighted draws, the less loaded wins, as HAProxy's <c>random(2)</c>).
/// A server with weight 0 takes no new sessions. A pick reserves the slot; the caller releases it.
/// </summary>
public sealed class ServerPicker
{
    private readonly BalanceAlgorithm _algorithm;
    private readonly object _lock = new();
    private readonly Random _random;
    private int _tieBreak;

    public ServerPicker(BalanceAlgorithm algorithm, Random? random = null)
    {
        _algorithm = algorithm;
        _random = random ?? Random.Shared;
    }

    public PickOutcome TryPick(ServerSet set, ServerOptions options, DateTimeOffset now, IReadOnlyCollection<ServerState>? exclude, out ServerState? picked)
    {
        picked = null;
        var usable = set.Usable;
        if (usable.IsEmpty)
            return PickOutcome.NoServer;

        lock (_lock)
        {
            // Candidates: usable, not excluded (unless that leaves nothing), weight > 0, below effective maxconn.
            Span<int> candidates = usable.Length <= 64 ? stackalloc int[usable.Length] : new int[usable.Length];
            Span<double> weights = usable.Length <= 64 ? stackalloc double[usable.Length] : new double[usable.Length];
            var count = Collect(usable, options, now, exclude, candidates, weights, out var anyEligible);
            if (count == 0 && exclude is { Count: > 0 })
                count = Collect(usable, options, now, null, candidates, weights, out anyEligible);
            if (count == 0)
                return anyEligible ? PickOutcome.AllBusy : PickOutcome.NoServer;

            var choice = _algorithm switch
            {
                BalanceAlgorithm.LeastConn => LeastConn(usable, candidates[..count], weights),
                BalanceAlgorithm.Random => RandomOfTwo(usable, candidates[..count], weights),
                _ => RoundRobin(usable, candidates[..count], weights),
            };
            var state = usable[choice].State;
            if (!state.TryReserve(EffectiveMaxConn(options, state, now)))
                return PickOutcome.AllBusy;
            picked = state;
            return PickOutcome.Picked;
        }
    }

    private static int Collect(System.Collections.Immutable.ImmutableArray<ServerEntry> usable, ServerOptions options, DateTimeOffset now,
        IReadOnlyCollection<ServerState>? exclude, Span<int> candidates, Span<double> weights, out bool anyEligible)
    {
        var count = 0;
        anyEligible = false;
        for (var i = 0; i < usable.Length; i++)
        {
            var s = usable[i].State;
            if (s.ConfiguredWeight <= 0 || (exclude is not null && Contains(exclude, s)))
                continue;
            anyEligible = true;
            var maxConn = EffectiveMaxConn(options, s, now);
            if (maxConn > 0 && s.Active >= maxConn)
                continue;
            var ramp = s.RampFactor(now, options.SlowStart);
            weights[i] = Math.Max(s.ConfiguredWeight * ramp, 1e-3);
            candidates[count++] = i;
        }
        return count;
    }

    private static bool Contains(IReadOnlyCollection<ServerState> set, ServerState s)
    {
        foreach (var x in set)
        {
            if (ReferenceEquals(x, s))
                return true;
        }
        return false;
    }

    /// <summary>Slow start scales maxconn too (at least one session).</summary>
    public static int EffectiveMaxConn(ServerOptions options, ServerState s, DateTimeOffset now)
    {
        if (options.MaxConn <= 0)
            return 0;
        var ramp = s.RampFactor(now, options.SlowStart);
        return ramp >= 1.0 ? options.MaxConn : Math.Max(1, (int)Math.Ceiling(options.MaxConn * ramp));
    }

    private static int RoundRobin(System.Collections.Immutable.ImmutableArray<ServerEntry> usable, ReadOnlySpan<int> candidates, ReadOnlySpan<double> weights)
    {
        // Smooth weighted round-robin: every candidate gains its weight, the richest is picked and pays the total.
        long total = 0;
        var best = -1;
        long bestCurrent = long.MinValue;
        foreach (var i in candidates)
        {
            var w = (long)Math.Max(1, Math.Round(weights[i] * 1000));
            var s = usable[i].State;
            s.RoundRobinCurrent += w;
            total += w;
            if (s.RoundRobinCurrent > bestCurrent)
            {
                bestCurrent = s.RoundRobinCurrent;
                best = i;
            }
        }
        usable[best].State.RoundRobinCurrent -= total;
        return best;
    }

    private int LeastConn(System.Collections.Immutable.ImmutableArray<ServerEntry> usable, ReadOnlySpan<int> candidates, ReadOnlySpan<double> weights)
    {
        // Ties rotate so equal servers share new sessions instead of the first one taking them all.
        var start = _tieBreak++ & int.MaxValue;
        var best = -1;
        var bestLoad = double.MaxValue;
        for (var k = 0; k < candidates.Length; k++)
        {
            var i = candidates[(start + k) % candidates.Length];
            var load = (usable[i].State.Active + 1) / weights[i];
            if (load < bestLoad)
            {
                bestLoad = load;
                best = i;
            }
        }
        return best;
    }

    private int RandomOfTwo(System.Collections.Immutable.ImmutableArray<ServerEntry> usable, ReadOnlySpan<int> candidates, ReadOnlySpan<double> weights)
    {
        var a = WeightedDraw(candidates, weights);
        var b = WeightedDraw(candidates, weights);
        var loadA = (usable[a].State.Active + 1) / weights[a];
        var loadB = (usable[b].State.Active + 1) / weights[b];
        return loadB < loadA ? b : a;
    }

    private int WeightedDraw(ReadOnlySpan<int> candidates, ReadOnlySpan<double> weights)
    {
        double total = 0;
        foreach (var i in candidates)
            total += weights[i];
        var x = _random.NextDouble() * total;
        foreach (var i in candidates)
        {
            x -= weights[i];
            if (x < 0)
                return i;
        }
        return candidates[^1];
    }
}
