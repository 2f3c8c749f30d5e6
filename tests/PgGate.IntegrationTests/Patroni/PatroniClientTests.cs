using System.Diagnostics;
using System.Net;
using PgGate.Cluster.PatroniApi;
using PgGate.Config;
using PgGate.Sandbox.Patroni;

namespace PgGate.IntegrationTests.Patroni;

/// <summary>The Patroni REST client against real Patroni: <c>GET /cluster</c>, <c>POST /switchover</c> and its refusals.</summary>
[Collection("patroni")]
public sealed class PatroniClientTests(PatroniFixture fixture) : IAsyncLifetime
{
    private PatroniCluster _cluster = null!;
    private PatroniClient _client = null!;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _cluster = await fixture.ResetAsync(Cancel);
        _client = _cluster.CreateClient();
    }

    public ValueTask DisposeAsync()
    {
        _client?.Dispose();
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task GET_cluster_lists_every_member_with_role_state_timeline_lag_and_tags()
    {
        var leader = await _cluster.LeaderAsync(Cancel);
        var status = await _client.GetClusterAsync(Cancel);

        Assert.Equal(_cluster.Members.Select(m => m.Name), status.Members.Select(m => m.Name));
        Assert.Equal(leader, status.Leader?.Name);
        Assert.False(status.Paused);
        Assert.Null(status.ScheduledSwitchover);
        var timeline = status.Leader!.Timeline;
        Assert.NotNull(timeline);
        foreach (var member in status.Members)
        {
            var sandbox = _cluster.Member(member.Name);
            Assert.Equal(member.Name == leader ? "leader" : "replica", member.Role);
            Assert.Equal("running", member.State);
            Assert.Equal(sandbox.Host, member.Host);
            Assert.Equal(sandbox.Port, member.Port);
            Assert.Equal(new Uri(sandbox.RestUrl, "/patroni").ToString(), member.ApiUrl);
            Assert.Equal(timeline, member.Timeline);
            Assert.Equal("true", member.Tags["clonefrom"]);
            if (member.Name == leader)
                Assert.Null(member.LagBytes);
            else
                Assert.InRange(member.LagBytes ?? -1, 0, 1 << 20);
        }
    }

    [Fact]
    public async Task ForCluster_builds_a_client_from_PgGates_cluster_configuration()
    {
        var config = new ClusterConfig
        {
            Name = _cluster.Name,
            Members = [.. _cluster.Members.Select(m => new MemberConfig { Name = m.Name, Host = m.Host, PatroniPort = m.RestPort })],
            Services = [],
            Health = new HealthConfig { Patroni = _cluster.RestCredentials },
        };
        using var client = PatroniClient.ForCluster(config);
        Assert.Equal(_cluster.Members.Select(m => m.RestUrl), client.Members.Select(m => m.BaseAddress));
        Assert.Equal(await _cluster.LeaderAsync(Cancel), (await client.GetClusterAsync(Cancel)).Leader?.Name);
    }

    [Fact]
    public async Task SwitchoverAsync_moves_the_leader_to_the_candidate_and_reports_Patronis_message()
    {
        var leader = (await _cluster.LeaderAsync(Cancel))!;
        var candidate = _cluster.Members.First(m => m.Name != leader).Name;
        var stopwatch = Stopwatch.StartNew();
        var result = await _client.SwitchoverAsync(leader, candidate, cancellationToken: Cancel);
        var answered = stopwatch.Elapsed;

        Assert.False(result.Scheduled);
        Assert.Equal($"Successfully switched over to \"{candidate}\"", result.Message);
        Assert.Equal(leader, result.AskedMember);
        Assert.Equal(candidate, await _cluster.LeaderAsync(Cancel));
        Assert.Equal(candidate, (await _client.GetClusterAsync(Cancel)).Leader?.Name);
        await _cluster.WaitUntilHealthyAsync(cancellationToken: Cancel);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"POST /switchover {leader} -> {candidate}: Patroni answered after {answered.TotalMilliseconds:0} ms, cluster whole after " +
            $"{stopwatch.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task SwitchoverAsync_without_names_moves_leadership_away_from_the_current_leader()
    {
        var leader = (await _cluster.LeaderAsync(Cancel))!;
        var result = await _client.SwitchoverAsync(cancellationToken: Cancel);
        var now = await _cluster.LeaderAsync(Cancel);
        Assert.NotNull(now);
        Assert.NotEqual(leader, now);
        Assert.Equal($"Successfully switched over to \"{now}\"", result.Message);
        await _cluster.WaitUntilHealthyAsync(cancellationToken: Cancel);
    }

    [Fact]
    public async Task Refusals_carry_Patronis_message_and_what_to_do()
    {
        var leader = (await _cluster.LeaderAsync(Cancel))!;
        var replica = _cluster.Members.First(m => m.Name != leader).Name;

        var unknown = await Assert.ThrowsAsync<PatroniApiException>(() => _client.SwitchoverAsync(leader, "pg-test-9", cancellationToken: Cancel));
        Assert.Equal(HttpStatusCode.PreconditionFailed, unknown.StatusCode);
        Assert.Equal("candidate does not exists", unknown.PatroniMessage);
        Assert.Contains("Check the leader and candidate names", unknown.Message, StringComparison.Ordinal);

        var wrongLeader = await Assert.ThrowsAsync<PatroniApiException>(() => _client.SwitchoverAsync(replica, leader, cancellationToken: Cancel));
        Assert.Equal(HttpStatusCode.PreconditionFailed, wrongLeader.StatusCode);
        Assert.Equal("leader name does not match", wrongLeader.PatroniMessage);

        var past = await Assert.ThrowsAsync<PatroniApiException>(
            () => _client.SwitchoverAsync(leader, replica, DateTimeOffset.UtcNow.AddHours(-1), Cancel));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, past.StatusCode);
        Assert.Equal("Cannot schedule switchover in the past", past.PatroniMessage);

        using var badPassword = new PatroniClient(_client.Members,
            new PatroniCheckConfig { Username = "postgres", Password = new SecretSource { Value = "wrong" } });
        var unauthorized = await Assert.ThrowsAsync<PatroniApiException>(() => badPassword.SwitchoverAsync(leader, replica, cancellationToken: Cancel));
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal("not authenticated", unauthorized.PatroniMessage);
        Assert.Contains("restapi.authentication", unauthorized.Message, StringComparison.Ordinal);

        using var noCredentials = new PatroniClient(_client.Members);
        var anonymous = await Assert.ThrowsAsync<PatroniApiException>(() => noCredentials.SwitchoverAsync(leader, replica, cancellationToken: Cancel));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("no auth header received", anonymous.PatroniMessage);
        Assert.Contains("Patroni.API", anonymous.Message, StringComparison.Ordinal);

        // Nothing moved.
        Assert.Equal(leader, await _cluster.LeaderAsync(Cancel));
    }

    [Fact]
    public async Task Unreachable_members_are_skipped_and_named_when_none_answers()
    {
        using var partly = new PatroniClient(
            [new PatroniApiEndpoint("gone", new Uri("http://127.0.0.44:8008")), .. _client.Members], _cluster.RestCredentials, TimeSpan.FromSeconds(1));
        Assert.Equal(await _cluster.LeaderAsync(Cancel), (await partly.GetClusterAsync(Cancel)).Leader?.Name);

        using var none = new PatroniClient([new PatroniApiEndpoint("gone", new Uri("http://127.0.0.44:8008"))], requestTimeout: TimeSpan.FromSeconds(1));
        var error = await Assert.ThrowsAsync<PatroniApiException>(() => none.GetClusterAsync(Cancel));
        Assert.Null(error.StatusCode);
        Assert.Contains("gone: GET /cluster to http://127.0.0.44:8008/ failed", error.Message, StringComparison.Ordinal);
    }
}
