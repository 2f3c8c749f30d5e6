using System.Net;
using System.Text.Json;
using PgGate.Cluster;
using PgGate.Config;
using PgGate.Sandbox.Patroni;

namespace PgGate.IntegrationTests.Patroni;

/// <summary>
/// PgGate's Patroni probe against real Patroni: the check answers match the reference matrix (pigsty-service-access.md
/// 5.3) for a leader, streaming replicas, a <c>noloadbalance</c> replica, a sync standby and a replica whose PostgreSQL
/// is down; <c>GET /patroni</c> parses; and PgGate's own rule engine (the <c>sql</c> source) agrees with Patroni.
/// </summary>
[Collection("patroni")]
public sealed class PatroniProbeTests(PatroniFixture fixture) : IAsyncLifetime
{
    private static readonly string[] MatrixPaths =
    [
        "/", "/primary", "/read-write", "/master", "/leader", "/standby-leader", "/replica", "/read-only", "/sync", "/synchronous",
        "/read-only-sync", "/async", "/health", "/replica?lag=1MB", "/replica?tag_clonefrom=true", "/replica?tag_clonefrom=false",
        "/primary?tag_clonefrom=false",
    ];

    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };

    private PatroniCluster _cluster = null!;
    private PatroniMember _leader = null!;
    private PatroniMember[] _replicas = null!;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _cluster = await fixture.ResetAsync(Cancel);
        _leader = _cluster.Member((await _cluster.LeaderAsync(Cancel))!);
        _replicas = [.. _cluster.Members.Where(m => m != _leader)];
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task Leader_and_streaming_replicas_answer_as_the_reference_matrix_says()
    {
        string[] leaderPasses = ["/", "/primary", "/read-write", "/master", "/leader", "/read-only", "/read-only-sync", "/health", "/primary?tag_clonefrom=false"];
        string[] replicaPasses = ["/replica", "/read-only", "/async", "/health", "/replica?lag=1MB", "/replica?tag_clonefrom=true"];

        await AssertMatrixAsync(_leader, leaderPasses);
        foreach (var replica in _replicas)
            await AssertMatrixAsync(replica, replicaPasses);
    }

    [Fact]
    public async Task Liveness_and_readiness_sent_as_OPTIONS_fall_through_to_503()
    {
        foreach (var member in _cluster.Members)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await _cluster.CheckAsync(member, "/liveness", Cancel));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await _cluster.CheckAsync(member, "/readiness", Cancel));
            using var liveness = await Http.GetAsync(new Uri(member.RestUrl, "/liveness"), Cancel);
            Assert.Equal(HttpStatusCode.OK, liveness.StatusCode);
        }
    }

    [Fact]
    public async Task PgGates_rules_on_GET_patroni_facts_agree_with_Patroni_on_every_path()
    {
        // As the monitor does: each member's facts, then what needs the whole cluster (lag behind the leader, sync state).
        var (config, _) = Config();
        var raw = new List<MemberFacts>();
        foreach (var member in _cluster.Members)
            raw.Add(PatroniProbe.ParseFacts(await GetPatroniAsync(member), DateTimeOffset.UtcNow));
        var resolved = ClusterFactsResolver.Resolve(config, raw, deriveLeader: false, out var conflict);
        Assert.Null(conflict);
        foreach (var member in _cluster.Members)
        {
            foreach (var path in MatrixPaths)
            {
                var patroni = await _cluster.CheckAsync(member, path, Cancel) == HttpStatusCode.OK;
                Assert.True(patroni == PatroniCheckRules.Passes(CheckPath.Parse(path), resolved[member.Index]),
                    $"{member.Name} {path}: Patroni says {(patroni ? 200 : 503)}, PgGate's rules say the opposite");
            }
        }
    }

    [Fact]
    public async Task Probe_returns_the_same_check_results_as_HAProxy_would_get_and_the_members_facts()
    {
        var (config, members) = Config();
        var checks = MatrixPaths.Select(CheckPath.Parse).ToArray();
        foreach (var member in _cluster.Members)
        {
            await using var probe = new PatroniProbe(config, members[member.Index], TimeSpan.FromSeconds(3), TimeProvider.System);
            var result = await probe.ProbeAsync(checks, Cancel);
            Assert.NotNull(result.CheckResults);
            for (var i = 0; i < checks.Length; i++)
                Assert.Equal(await _cluster.CheckAsync(member, checks[i].Raw, Cancel) == HttpStatusCode.OK, result.CheckResults[i]);
            Assert.True(result.Facts.Reachable);
            Assert.True(result.Facts.Running);
            Assert.Null(result.Facts.Error);
            Assert.Equal(member == _leader ? MemberRole.Primary : MemberRole.Replica, result.Facts.Role);
            Assert.Equal(member == _leader, result.Facts.IsLeader);
        }
    }

    [Fact]
    public async Task GET_patroni_facts_parse_role_timeline_positions_replication_and_tags()
    {
        var leaderJson = await GetPatroniAsync(_leader);
        using var document = JsonDocument.Parse(leaderJson);
        var rawRole = document.RootElement.GetProperty("role").GetString();
        var version = document.RootElement.GetProperty("patroni").GetProperty("version").GetString();
        TestContext.Current.TestOutputHelper?.WriteLine($"Patroni {version} reports the leader's role as \"{rawRole}\"");
        Assert.Contains(rawRole, (string[])["master", "primary"]);

        var timeline = long.Parse(await _leader.RunSqlAsync("select timeline_id from pg_control_checkpoint()", cancellationToken: Cancel),
            System.Globalization.CultureInfo.InvariantCulture);
        var leader = PatroniProbe.ParseFacts(leaderJson, DateTimeOffset.UtcNow);
        Assert.Equal(MemberRole.Primary, leader.Role);
        Assert.True(leader.IsLeader);
        Assert.True(leader.Running);
        Assert.Equal(timeline, leader.Timeline);
        Assert.NotNull(leader.Lsn);
        Assert.Equal(_replicas.Select(r => r.Name).Order(StringComparer.Ordinal), leader.Replication.Select(r => r.ApplicationName).Order(StringComparer.Ordinal));
        Assert.All(leader.Replication, r => Assert.Equal("streaming", r.State));
        Assert.All(leader.Replication, r => Assert.Equal("async", r.SyncState));

        // Pigsty's tags; Patroni leaves out the false booleans (nofailover, noloadbalance, nosync).
        Assert.Equal("true", leader.Tags["clonefrom"]);
        Assert.Equal(_cluster.Tools.Postgres.MajorVersion?.ToString(System.Globalization.CultureInfo.InvariantCulture), leader.Tags["version"]);
        Assert.Equal("oltp.yml", leader.Tags["conf"]);
        Assert.False(leader.Tags.ContainsKey("nofailover"));
        Assert.False(leader.Tags.ContainsKey("noloadbalance"));

        foreach (var member in _replicas)
        {
            var replica = PatroniProbe.ParseFacts(await GetPatroniAsync(member), DateTimeOffset.UtcNow);
            Assert.Equal(MemberRole.Replica, replica.Role);
            Assert.False(replica.IsLeader);
            Assert.True(replica.Running);
            Assert.Equal(timeline, replica.Timeline);
            Assert.NotNull(replica.Lsn);
            Assert.NotNull(replica.ReceivedLsn);
            Assert.Empty(replica.Replication);
        }
    }

    [Fact]
    public async Task A_noloadbalance_replica_fails_every_replica_check_but_stays_healthy()
    {
        var replica = _replicas[0];
        await _cluster.SetTagsAsync(replica, new Dictionary<string, object?> { ["noloadbalance"] = true }, Cancel);
        try
        {
            await AssertMatrixAsync(replica, ["/health"]);
            var facts = PatroniProbe.ParseFacts(await GetPatroniAsync(replica), DateTimeOffset.UtcNow);
            Assert.Equal("true", facts.Tags["noloadbalance"]);
            Assert.False(PatroniCheckRules.Passes(CheckPath.Parse("/read-only"), facts));
        }
        finally
        {
            await _cluster.SetTagsAsync(replica, new Dictionary<string, object?> { ["noloadbalance"] = false }, Cancel);
        }
        Assert.Equal(HttpStatusCode.OK, await _cluster.CheckAsync(replica, "/replica", Cancel));
    }

    [Fact]
    public async Task With_synchronous_mode_only_the_sync_standby_passes_sync_and_the_primary_never_does()
    {
        await _cluster.SetSynchronousModeAsync(true, Cancel);
        try
        {
            using var client = _cluster.CreateClient();
            var status = await client.GetClusterAsync(Cancel);
            var sync = _cluster.Member(status.Members.Single(m => m.IsSyncStandby).Name);
            var async = _replicas.Single(r => r != sync);

            await AssertMatrixAsync(_leader, ["/", "/primary", "/read-write", "/master", "/leader", "/read-only", "/read-only-sync", "/health",
                "/primary?tag_clonefrom=false"]);
            await AssertMatrixAsync(sync, ["/replica", "/read-only", "/sync", "/synchronous", "/read-only-sync", "/health", "/replica?lag=1MB",
                "/replica?tag_clonefrom=true"]);
            await AssertMatrixAsync(async, ["/replica", "/read-only", "/async", "/health", "/replica?lag=1MB", "/replica?tag_clonefrom=true"]);
        }
        finally
        {
            await _cluster.SetSynchronousModeAsync(false, Cancel);
        }
    }

    [Fact]
    public async Task A_replica_whose_postgres_died_fails_health_and_replica_checks_while_Patroni_answers()
    {
        var replica = _replicas[0];
        await _cluster.KillPostgresAsync(replica);

        // Patroni notices only on its next loop (up to loop_wait later) and the restart takes longer still; the REST API
        // answers from a failed query at once.
        foreach (var path in (string[])["/health", "/replica", "/read-only", "/async"])
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await _cluster.CheckAsync(replica, path, Cancel));
        var facts = PatroniProbe.ParseFacts(await GetPatroniAsync(replica), DateTimeOffset.UtcNow);
        Assert.False(facts.Running);
        Assert.NotNull(facts.Error);

        await _cluster.WaitUntilHealthyAsync(cancellationToken: Cancel);
        Assert.Equal(HttpStatusCode.OK, await _cluster.CheckAsync(replica, "/replica", Cancel));
    }

    private async Task AssertMatrixAsync(PatroniMember member, string[] passing)
    {
        var wrong = new List<string>();
        foreach (var path in MatrixPaths)
        {
            var expected = passing.Contains(path) ? HttpStatusCode.OK : HttpStatusCode.ServiceUnavailable;
            var actual = await _cluster.CheckAsync(member, path, Cancel);
            if (actual != expected)
                wrong.Add($"{path}: expected {(int)expected}, got {(actual is null ? "no answer" : ((int)actual).ToString(System.Globalization.CultureInfo.InvariantCulture))}");
        }
        Assert.True(wrong.Count == 0, $"{member.Name}: " + string.Join("; ", wrong));
    }

    private static async Task<byte[]> GetPatroniAsync(PatroniMember member)
    {
        using var response = await Http.GetAsync(new Uri(member.RestUrl, "/patroni"), Cancel);
        return await response.Content.ReadAsByteArrayAsync(Cancel);
    }

    private (ClusterConfig Config, MemberConfig[] Members) Config()
    {
        var members = _cluster.Members.Select(m => new MemberConfig
        {
            Name = m.Name,
            Host = m.Host,
            PgPort = m.Port,
            PatroniPort = m.RestPort,
        }).ToArray();
        return (new ClusterConfig { Name = _cluster.Name, Members = members, Services = [] }, members);
    }
}
