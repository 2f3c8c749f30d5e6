using System.Diagnostics;
using System.Globalization;
using PgGate.Cluster.PatroniApi;
using PgGate.Config;

namespace PgGate.Failover;

/// <summary>
/// A planned switchover that clients do not notice: pause new transactions for the cluster on every PgGate node, let
/// running ones finish (bounded), have Patroni switch over (or run the user's promote command, with the old primary
/// fenced out of every node's view first), wait until every node routes writes to the new leader, and resume, always,
/// even when a step failed. Each step is reported as it ends.
/// </summary>
public sealed class SwitchoverCoordinator
{
    private readonly ClusterConfig _cluster;
    private readonly IReadOnlyList<ISwitchoverNode> _nodes;
    private readonly Func<PatroniClient> _patroni;

    public SwitchoverCoordinator(ClusterConfig cluster, IReadOnlyList<ISwitchoverNode> nodes, Func<PatroniClient>? patroni = null)
    {
        if (nodes.Count == 0)
            throw new ArgumentException("A switchover needs at least one PgGate node.", nameof(nodes));
        _cluster = cluster;
        _nodes = nodes;
        _patroni = patroni ?? (() => PatroniClient.ForCluster(cluster));
    }

    public async Task<SwitchoverReport> RunAsync(SwitchoverRequest request, Action<SwitchoverStep>? onStep = null, CancellationToken cancellationToken = default)
    {
        var total = Stopwatch.StartNew();
        var steps = new List<SwitchoverStep>();
        void Report(string name, bool ok, long started, string detail)
        {
            var step = new SwitchoverStep(name, ok, Stopwatch.GetElapsedTime(started).TotalMilliseconds, detail);
            steps.Add(step);
            onStep?.Invoke(step);
        }
        SwitchoverReport Done(bool ok, string? old, string? next, string? error) => new(ok, old, next, steps, error, total.Elapsed.TotalMilliseconds);

        var usePromote = request.PromoteCommand is not null;
        if (!usePromote && _cluster.Health.Source == HealthSource.Sql)
        {
            return Done(false, null, null, $"cluster {_cluster.Name} is checked with health source sql (no Patroni): give --promote-command " +
                "(e.g. \"runuser -u postgres -- pg_ctl promote -D /pg/data\" run on the candidate) and --to <member>");
        }
        if (usePromote && request.To is null)
            return Done(false, null, null, "a switchover with --promote-command needs --to <member>: PgGate does not pick a candidate for a command it cannot see into");
        MemberConfig? candidate = null;
        if (request.To is not null)
        {
            candidate = _cluster.FindMember(request.To);
            if (candidate is null)
            {
                return Done(false, null, null, $"cluster {_cluster.Name} has no member '{request.To}' (members: " +
                    string.Join(", ", _cluster.Members.Select(m => m.Name)) + ")");
            }
        }

        // 1. Who leads now, and may the candidate take over?
        var t = Stopwatch.GetTimestamp();
        string old;
        using var patroni = usePromote ? null : _patroni();
        try
        {
            if (patroni is not null)
            {
                var status = await patroni.GetClusterAsync(cancellationToken).ConfigureAwait(false);
                old = status.Leader?.Name ?? throw new SwitchoverException($"Patroni reports no leader in {_cluster.Name}: nothing to switch over from; wait for an election");
                if (candidate is not null && status.Find(candidate.Name) is null)
                    throw new SwitchoverException($"Patroni does not know member {candidate.Name} in {_cluster.Name}");
            }
            else
            {
                old = await _nodes[0].LeaderAsync(_cluster.Name, cancellationToken).ConfigureAwait(false)
                    ?? throw new SwitchoverException($"PgGate node {_nodes[0].Name} routes writes of {_cluster.Name} to no member now: nothing to switch over from");
            }
            if (candidate is not null && candidate.Name == old)
                throw new SwitchoverException($"{candidate.Name} already leads {_cluster.Name}");
            Report("leader", true, t, $"{old} leads {_cluster.Name}; candidate {candidate?.Name ?? "chosen by Patroni"}");
        }
        catch (Exception e) when (e is SwitchoverException or PatroniApiException)
        {
            Report("leader", false, t, e.Message);
            return Done(false, null, null, e.Message);
        }

        if (request.ScheduledAt is { } at)
        {
            t = Stopwatch.GetTimestamp();
            try
            {
                var result = await patroni!.SwitchoverAsync(old, candidate?.Name, at, cancellationToken).ConfigureAwait(false);
                Report("schedule", true, t, $"Patroni will switch over at {at.ToString("u", CultureInfo.InvariantCulture)}: {result.Message} " +
                    "(PgGate does not pause for a scheduled switchover; it follows the leader change as a failover)");
                return Done(true, old, candidate?.Name, null);
            }
            catch (PatroniApiException e)
            {
                Report("schedule", false, t, e.Message);
                return Done(false, old, null, e.Message);
            }
        }

        string? error = null;
        string? newLeader = null;
        var current = "pause";
        CancellationTokenSource? waitStop = null;
        Task<PatroniSwitchoverResult>? patroniCall = null;
        var patroniReported = false;
        try
        {
            // 2. Pause every node; a node that cannot be paused would keep sending writes to the old primary.
            t = Stopwatch.GetTimestamp();
            var fence = usePromote ? old : null;
            var pauses = new Task<PauseOutcome>[_nodes.Count];
            for (var i = 0; i < _nodes.Count; i++)
                pauses[i] = PauseOnAsync(_nodes[i], _cluster.Name, request.DrainTimeout, request.HoldLimit, fence, cancellationToken);
            try
            {
                await Task.WhenAll(pauses).ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                var failed = new List<string>();
                for (var i = 0; i < pauses.Length; i++)
                {
                    if (pauses[i].IsFaulted)
                        failed.Add(pauses[i].Exception!.InnerException!.Message);
                }
                throw new SwitchoverException("cannot pause every PgGate node of the cluster, so nothing was switched over: " + string.Join("; ", failed));
            }
            Report("pause", true, t, DescribePauses(pauses, fence));

            // 3. Promote, while every node already waits for the new leader: nodes resume the moment they route writes to
            // it, not when Patroni's HTTP answer (which polls for the outcome) arrives.
            current = usePromote ? "promote" : "switchover";
            t = Stopwatch.GetTimestamp();
            waitStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var waits = new Task<string>[_nodes.Count];
            for (var i = 0; i < _nodes.Count; i++)
                waits[i] = WaitOnAsync(_nodes[i], _cluster.Name, candidate?.Name, old, request.PromoteTimeout + request.LeaderTimeout, waitStop.Token);
            var all = Task.WhenAll(waits);
            if (patroni is not null)
            {
                patroniCall = patroni.SwitchoverAsync(old, candidate?.Name, null, cancellationToken);
                if (await Task.WhenAny(all, patroniCall).ConfigureAwait(false) == patroniCall && patroniCall.IsFaulted
                    && patroniCall.Exception!.InnerException is PatroniApiException refused
                    && refused.PatroniMessage?.Contains("status unknown", StringComparison.Ordinal) != true)
                {
                    patroniReported = true;
                    throw refused;
                }
            }
            else
            {
                var (lagging, caughtUp) = await CatchUpProbe.WaitAsync(_cluster, _cluster.FindMember(old)!, candidate!, request.PromoteTimeout,
                    cancellationToken).ConfigureAwait(false);
                if (lagging is not null)
                    throw new SwitchoverException(lagging + $"; {old} stays primary (its fence is lifted on resume)");
                Report("catch-up", true, t, caughtUp);
                t = Stopwatch.GetTimestamp();
                var (code, output) = await PromoteCommand.RunAsync(request.PromoteCommand!, _cluster, candidate!, _cluster.FindMember(old),
                    request.PromoteTimeout, cancellationToken).ConfigureAwait(false);
                if (code != 0)
                {
                    throw new SwitchoverException($"the promote command exited with code {code}" + (output.Length > 0 ? $": {Last(output)}" : "") +
                        $"; {old} stays primary (its fence is lifted on resume)");
                }
                Report("promote", true, t, $"`{request.PromoteCommand}` promoted {candidate!.Name}" + (output.Length > 0 ? $": {Last(output)}" : ""));
                current = "leader";
                t = Stopwatch.GetTimestamp();
            }

            // 4. Every node routes writes to the new leader.
            try
            {
                await all.ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                var failed = new List<string>();
                for (var i = 0; i < waits.Length; i++)
                {
                    if (waits[i].IsFaulted)
                        failed.Add($"{_nodes[i].Name}: {waits[i].Exception!.InnerException!.Message}");
                }
                throw new SwitchoverException("the new leader was not confirmed on every node: " + string.Join("; ", failed) +
                    " (GET /cluster or the leader key says who leads; the nodes' status pages say what they route to)");
            }
            newLeader = waits[0].Result;
            // No extra check before resuming: a node routes writes to a member only once that member's PostgreSQL says
            // it left recovery (Patroni's role, or the monitor's own SQL read), not when Patroni merely holds the lock.
            Report(current, true, t, $"writes go to {newLeader} on {_nodes.Count} node(s); its PostgreSQL reports primary");
        }
        catch (Exception e) when (e is SwitchoverException or PatroniApiException)
        {
            error = e.Message;
            Report(current, false, t, e.Message);
        }
        finally
        {
            // 5. Always resume: a paused client waits, it must never wait forever.
            var r = Stopwatch.GetTimestamp();
            var resumes = new Task[_nodes.Count];
            for (var i = 0; i < _nodes.Count; i++)
                resumes[i] = ResumeOnAsync(_nodes[i], _cluster.Name);
            var failed = new List<string>();
            for (var i = 0; i < resumes.Length; i++)
            {
                try
                {
                    await resumes[i].ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    failed.Add($"{_nodes[i].Name}: {e.Message}");
                }
            }
            Report("resume", failed.Count == 0, r, failed.Count == 0
                ? $"{_nodes.Count} node(s) resumed"
                : $"could not resume {string.Join("; ", failed)} (those nodes resume by themselves after {request.HoldLimit.TotalSeconds:0} s)");
            if (failed.Count > 0 && error is null)
                error = "resume failed on " + failed.Count + " node(s)";
            if (waitStop is not null)
            {
                await waitStop.CancelAsync().ConfigureAwait(false);
                waitStop.Dispose();
            }
        }

        // Patroni's own answer, which may come after every node already routes to the new leader.
        if (patroniCall is not null && !patroniReported)
        {
            t = Stopwatch.GetTimestamp();
            try
            {
                var result = await patroniCall.ConfigureAwait(false);
                Report("patroni", true, t, $"Patroni on {result.AskedMember}: {result.Message}");
            }
            catch (PatroniApiException e) when (e.PatroniMessage?.Contains("status unknown", StringComparison.Ordinal) == true && newLeader is not null)
            {
                Report("patroni", true, t, $"Patroni: {e.PatroniMessage} (the leader key already named {newLeader})");
            }
            catch (PatroniApiException e)
            {
                Report("patroni", false, t, e.Message);
                error ??= e.Message;
            }
        }
        return Done(error is null, old, newLeader, error);
    }

    // A node that fails before its first await still fails as a task, so one bad node never skips the others.
    private static async Task<PauseOutcome> PauseOnAsync(ISwitchoverNode node, string cluster, TimeSpan drain, TimeSpan hold, string? fence,
        CancellationToken cancellationToken)
    {
        await Task.Yield();
        return await node.PauseAsync(cluster, drain, hold, fence, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<string> WaitOnAsync(ISwitchoverNode node, string cluster, string? expected, string old, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        await Task.Yield();
        return await node.WaitForLeaderAsync(cluster, expected, old, timeout, cancellationToken).ConfigureAwait(false);
    }

    private static async Task ResumeOnAsync(ISwitchoverNode node, string cluster)
    {
        await Task.Yield();
        await node.ResumeAsync(cluster, CancellationToken.None).ConfigureAwait(false);
    }

    private static string DescribePauses(Task<PauseOutcome>[] pauses, string? fence)
    {
        var relaySessions = 0;
        var undrained = new List<string>();
        double slowest = 0;
        foreach (var p in pauses)
        {
            var o = p.Result;
            slowest = Math.Max(slowest, o.ElapsedMs);
            foreach (var (name, count) in o.StillRunning)
            {
                if (name.EndsWith("(relay)", StringComparison.Ordinal))
                    relaySessions += count;
                else
                    undrained.Add($"{o.Node} {name}: {count}");
            }
        }
        var text = string.Create(CultureInfo.InvariantCulture, $"{pauses.Length} node(s) paused, drained in {slowest:0} ms");
        if (fence is not null)
            text += $"; {fence} fenced (no writes)";
        if (undrained.Count > 0)
            text += "; drain timeout with transactions still running (" + string.Join(", ", undrained) + ")";
        if (relaySessions > 0)
            text += $"; {relaySessions} relay session(s) stay open and end when their server leaves the service";
        return text;
    }

    private static string Last(string output)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "" : lines[^1];
    }
}
