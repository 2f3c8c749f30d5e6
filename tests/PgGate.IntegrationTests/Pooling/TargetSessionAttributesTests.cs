using Npgsql;
using PgGate.Pooling;

namespace PgGate.IntegrationTests.Pooling;

/// <summary>
/// The pooler reports <c>in_hot_standby</c> and <c>default_transaction_read_only</c> as its backend does, so that
/// multi-host connection strings with <c>target_session_attrs</c> pick the right pooler, in either host order, with
/// Npgsql and with libpq (psql).
/// </summary>
[Collection(PoolingCollection.Name)]
public sealed class TargetSessionAttributesTests(PoolingFixture fixture)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("read-write", false)]
    [InlineData("primary", false)]
    [InlineData("read-only", true)]
    [InlineData("standby", true)]
    public async Task Npgsql_picks_the_pooler_whose_server_matches(string attributes, bool expectRecovery)
    {
        await using var primary = await fixture.StartPoolerAsync();
        await using var replica = await StartReplicaPoolerAsync();
        foreach (var order in new[] { new[] { primary, replica }, [replica, primary] })
        {
            var builder = new NpgsqlConnectionStringBuilder(primary.ConnectionString())
            {
                Host = $"{order[0].Host}:{order[0].Port},{order[1].Host}:{order[1].Port}",
                Port = 5432,
                TargetSessionAttributes = attributes,
                LoadBalanceHosts = false,
            };
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(Cancel);
            await using var command = new NpgsqlCommand("select pg_is_in_recovery()", connection);
            Assert.Equal(expectRecovery, (bool)(await command.ExecuteScalarAsync(Cancel))!);
        }
    }

    [Theory]
    [InlineData("read-write", "f")]
    [InlineData("standby", "t")]
    [InlineData("prefer-standby", "t")]
    public async Task Libpq_picks_the_pooler_whose_server_matches(string attributes, string expectRecovery)
    {
        await using var primary = await fixture.StartPoolerAsync();
        await using var replica = await StartReplicaPoolerAsync();
        foreach (var order in new[] { new[] { primary, replica }, [replica, primary] })
        {
            var connection = $"host={order[0].Host},{order[1].Host} port={order[0].Port},{order[1].Port} dbname={PoolingFixture.Database} " +
                $"user=test password=test sslmode=disable target_session_attrs={attributes}";
            Assert.Equal(expectRecovery, await PsqlAsync(connection, "select pg_is_in_recovery()"));
        }
    }

    [Fact]
    public async Task Each_pooler_reports_hot_standby_and_read_only_as_its_server_does()
    {
        await using var replica = await StartReplicaPoolerAsync();
        await using var primary = await fixture.StartPoolerAsync();
        foreach (var (pooler, member, hotStandby) in new[] { (replica, fixture.Replica, "on"), (primary, fixture.Primary, "off") })
        {
            await using var pooled = await pooler.OpenAsync();
            var direct = new NpgsqlConnectionStringBuilder(pooler.ConnectionString()) { Host = member.Host, Port = member.Port };
            await using var server = new NpgsqlConnection(direct.ConnectionString);
            await server.OpenAsync(Cancel);
            Assert.Equal(hotStandby, pooled.PostgresParameters["in_hot_standby"]);
            foreach (var name in new[] { "in_hot_standby", "default_transaction_read_only" })
                Assert.Equal(server.PostgresParameters[name], pooled.PostgresParameters[name]);
        }
    }

    private Task<PoolerUnderTest> StartReplicaPoolerAsync() => fixture.StartPoolerAsync(s => s with
    {
        Databases = [new PoolerDatabase { Name = PoolerDatabase.FallbackName, Host = fixture.Replica.Host, Port = fixture.Replica.Port }],
    });

    private static async Task<string> PsqlAsync(string connectionString, string sql)
    {
        var (_, output, _) = await PoolingFixture.RunToolAsync("psql", ["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql, connectionString], password: null);
        return output.Trim();
    }
}
