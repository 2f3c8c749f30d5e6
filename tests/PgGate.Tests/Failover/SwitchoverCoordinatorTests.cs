using System.Collections.Concurrent;
using PgGate.Config;
using PgGate.Failover;

namespace PgGate.Tests.Failover;

/// <summary>The switchover sequence against fake nodes, with a real promote command (/bin/sh): ordering, fencing, and
/// that every node is resumed whatever fails.</summary>
public sealed class SwitchoverCoordinatorTests
{
    // Nothing listens on these loopback addresses: the SQL steps (catch-up, writable check) find the members unreachable
    // at once and never leave the machine.
    private const string Yaml = """
        clusters:
          pg-test:
            members:
              - { name: pg-test-1, host: 127.0.0.251, role: primary }
              - { name: pg-test-2, host: 127.0.0.252, role: replica }
            health: { source: sql }
        """;

    private static readonly ClusterConfig Cluster = ConfigLoader.LoadNativeFromString(Yaml, "pggate.yml").Clusters[0];

    [Fact]
    public async Task Promote_command_runs_between_a_fenced_pause_and_the_resume_of_every_node()
    {
        var nodes = new[] { new FakeNode("a"), new FakeNode("b") };
        var file = Path.GetTempFileName();
        try
        {
            var report = await new SwitchoverCoordinator(Cluster, nodes).RunAsync(new SwitchoverRequest
            {
                Cluster = "pg-test",
                To = "pg-test-2",
                PromoteCommand = $"echo \"$PGGATE_CANDIDATE $PGGATE_CANDIDATE_HOST $PGGATE_OLD_PRIMARY\" > {file}; for n in a b; do :; done",
            }, null, TestContext.Current.CancellationToken);

            Assert.True(report.Ok, report.Error);
            Assert.Equal("pg-test-1", report.OldLeader);
            Assert.Equal("pg-test-2", report.NewLeader);
            Assert.Equal(["leader", "pause", "catch-up", "promote", "leader", "resume"], report.Steps.Select(s => s.Name));
            Assert.Contains("pg-test-1 is unreachable", report.Steps[2].Detail, StringComparison.Ordinal);
            Assert.Equal("pg-test-2 127.0.0.252 pg-test-1", File.ReadAllText(file).Trim());
            foreach (var n in nodes)
            {
                Assert.Equal(["pause fence=pg-test-1", "wait pg-test-2", "resume"], n.Calls);
                Assert.False(n.Paused);
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_failing_promote_command_resumes_every_node_and_reports_the_commands_output()
    {
        var nodes = new[] { new FakeNode("a"), new FakeNode("b") };
        var lines = new List<string>();
        var report = await new SwitchoverCoordinator(Cluster, nodes).RunAsync(new SwitchoverRequest
        {
            Cluster = "pg-test",
            To = "pg-test-2",
            PromoteCommand = "echo 'pg_ctl: server is not in standby mode' >&2; exit 3",
        }, s => lines.Add(s.ToString()), TestContext.Current.CancellationToken);

        Assert.False(report.Ok);
        Assert.Contains("exited with code 3: pg_ctl: server is not in standby mode", report.Error, StringComparison.Ordinal);
        Assert.Contains("pg-test-1 stays primary", report.Error, StringComparison.Ordinal);
        Assert.All(nodes, n => Assert.False(n.Paused));
        Assert.All(nodes, n => Assert.Equal("resume", n.Calls[^1]));
        Assert.Equal(["leader", "pause", "catch-up", "promote", "resume"], report.Steps.Select(s => s.Name));
        Assert.StartsWith("promote    FAILED", lines[3], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_that_cannot_be_paused_stops_the_switchover_before_anything_is_promoted()
    {
        var nodes = new[] { new FakeNode("a"), new FakeNode("b") { FailPause = true } };
        var file = Path.Combine(Path.GetTempPath(), "pggate-promote-" + Guid.NewGuid().ToString("N"));
        var report = await new SwitchoverCoordinator(Cluster, nodes).RunAsync(new SwitchoverRequest
        {
            Cluster = "pg-test",
            To = "pg-test-2",
            PromoteCommand = $"touch {file}",
        }, null, TestContext.Current.CancellationToken);

        Assert.False(report.Ok);
        Assert.Contains("cannot pause every PgGate node", report.Error, StringComparison.Ordinal);
        Assert.Contains("node b is down", report.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(file));
        Assert.All(nodes, n => Assert.Equal("resume", n.Calls[^1]));
    }

    [Fact]
    public async Task Without_Patroni_or_a_promote_command_nothing_is_paused()
    {
        var node = new FakeNode("a");
        var report = await new SwitchoverCoordinator(Cluster, [node]).RunAsync(new SwitchoverRequest { Cluster = "pg-test" },
            null, TestContext.Current.CancellationToken);
        Assert.False(report.Ok);
        Assert.Contains("--promote-command", report.Error, StringComparison.Ordinal);
        Assert.Empty(node.Calls);
    }

    [Fact]
    public async Task A_candidate_that_is_not_a_member_is_refused_by_name()
    {
        var report = await new SwitchoverCoordinator(Cluster, [new FakeNode("a")]).RunAsync(
            new SwitchoverRequest { Cluster = "pg-test", To = "pg-test-9", PromoteCommand = "true" }, null, TestContext.Current.CancellationToken);
        Assert.False(report.Ok);
        Assert.Equal("cluster pg-test has no member 'pg-test-9' (members: pg-test-1, pg-test-2)", report.Error);
    }

    private sealed class FakeNode(string name) : ISwitchoverNode
    {
        private string _leader = "pg-test-1";

        public ConcurrentQueue<string> CallQueue { get; } = new();

        public List<string> Calls => [.. CallQueue];

        public bool Paused { get; private set; }

        public bool FailPause { get; init; }

        public string Name => name;

        public Task<PauseOutcome> PauseAsync(string cluster, TimeSpan drainTimeout, TimeSpan holdLimit, string? fence, CancellationToken cancellationToken)
        {
            if (FailPause)
                throw new SwitchoverException($"node {name} is down");
            CallQueue.Enqueue($"pause fence={fence}");
            Paused = true;
            return Task.FromResult(new PauseOutcome(name, ["pg-test-primary (relay)"], new Dictionary<string, int>(), true, 1));
        }

        public Task ResumeAsync(string cluster, CancellationToken cancellationToken)
        {
            CallQueue.Enqueue("resume");
            Paused = false;
            return Task.CompletedTask;
        }

        public Task<string?> LeaderAsync(string cluster, CancellationToken cancellationToken) => Task.FromResult<string?>(_leader);

        public async Task<string> WaitForLeaderAsync(string cluster, string? expected, string? old, TimeSpan timeout, CancellationToken cancellationToken)
        {
            CallQueue.Enqueue($"wait {expected}");
            // The promotion happens while nodes wait; the fake sees it once the command has run.
            await Task.Delay(50, cancellationToken);
            _leader = expected!;
            return _leader;
        }
    }
}
