using System.Net;
using Npgsql;
using PgGate.IntegrationTests.Patroni;
using PgGate.Pooling;

namespace PgGate.IntegrationTests.Pooling;

/// <summary>
/// TLS towards clients (<c>client_tls_sslmode</c>), with a private CA whose server certificate names the pooler's address:
/// <c>sslmode=require</c> and <c>verify-full</c> work with Npgsql and psql, plain clients are refused when TLS is required,
/// a client that trusts another CA refuses the pooler, and a pooler without TLS answers 'N'.
/// </summary>
[Collection(PoolingCollection.Name)]
public sealed class TlsTests(PoolingFixture fixture) : IDisposable
{
    private readonly TestCertificates _certificates = TestCertificates.Create(
        Directory.CreateTempSubdirectory("pggate-pooler-tls-").FullName, IPAddress.Parse(PoolingFixture.PoolerHost));

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_certificates.Directory, recursive: true);

    private Task<PoolerUnderTest> StartAsync(ClientTlsMode mode) => fixture.StartPoolerAsync(s => s with
    {
        ClientTlsSslMode = mode,
        ClientTlsCertFile = _certificates.CertFile,
        ClientTlsKeyFile = _certificates.KeyFile,
        ClientTlsCaFile = _certificates.CaFile,
    });

    [Fact]
    public async Task Verify_full_connects_over_TLS_and_moves_large_results()
    {
        await using var pooler = await StartAsync(ClientTlsMode.Require);
        await using var connection = await pooler.OpenAsync(configure: b =>
        {
            b.SslMode = SslMode.VerifyFull;
            b.RootCertificate = _certificates.CaFile;
        });
        Assert.True(Assert.Single(pooler.Pooler.GetClients()).Tls);

        // Large results and several transactions cross many TLS records, through whichever server connection the pool lends.
        for (var i = 0; i < 3; i++)
        {
            await using var command = new NpgsqlCommand("select count(*), sum(length(repeat('x', g % 100))) from generate_series(1, 200000) g", connection);
            await using var reader = await command.ExecuteReaderAsync(Cancel);
            Assert.True(await reader.ReadAsync(Cancel));
            Assert.Equal(200000L, reader.GetInt64(0));
        }
        await using var rows = new NpgsqlCommand("select repeat('y', 1000) from generate_series(1, 5000)", connection);
        await using var all = await rows.ExecuteReaderAsync(Cancel);
        var count = 0;
        while (await all.ReadAsync(Cancel))
        {
            Assert.Equal(1000, all.GetString(0).Length);
            count++;
        }
        Assert.Equal(5000, count);
    }

    [Fact]
    public async Task Psql_with_sslmode_verify_full_reaches_the_server()
    {
        await using var pooler = await StartAsync(ClientTlsMode.Require);
        var output = await PsqlAsync(
            $"host={pooler.Host} port={pooler.Port} dbname={PoolingFixture.Database} user=test password=test sslmode=verify-full sslrootcert={_certificates.CaFile}",
            "\\conninfo", "select 'served ' || count(*) from pg_class where relname = 'pgbench_accounts'");
        Assert.Contains("SSL connection (protocol: TLS", output, StringComparison.Ordinal);
        Assert.EndsWith("served 1", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plain_clients_are_refused_when_TLS_is_required()
    {
        await using var pooler = await StartAsync(ClientTlsMode.Require);
        var error = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var connection = await pooler.OpenAsync(configure: b => b.SslMode = SslMode.Disable);
        });
        Assert.Equal("28000", error.SqlState);

        // The refusal costs nobody else anything.
        await using var secure = await pooler.OpenAsync(configure: b => b.SslMode = SslMode.Require);
        Assert.Equal(1, await new NpgsqlCommand("select 1", secure).ExecuteScalarAsync(Cancel));
    }

    [Fact]
    public async Task A_client_that_trusts_another_CA_refuses_the_pooler()
    {
        await using var pooler = await StartAsync(ClientTlsMode.Require);
        var other = TestCertificates.Create(Directory.CreateTempSubdirectory("pggate-pooler-tls-other-").FullName,
            IPAddress.Parse(PoolingFixture.PoolerHost), "Another CA");
        try
        {
            await Assert.ThrowsAnyAsync<NpgsqlException>(async () =>
            {
                await using var connection = await pooler.OpenAsync(configure: b =>
                {
                    b.SslMode = SslMode.VerifyFull;
                    b.RootCertificate = other.CaFile;
                });
            });
        }
        finally
        {
            Directory.Delete(other.Directory, recursive: true);
        }
    }

    [Fact]
    public async Task Without_TLS_the_pooler_answers_N_and_plain_clients_are_served()
    {
        await using var pooler = await StartAsync(ClientTlsMode.Disable);
        await Assert.ThrowsAnyAsync<NpgsqlException>(async () =>
        {
            await using var connection = await pooler.OpenAsync(configure: b => b.SslMode = SslMode.Require);
        });
        await using var preferring = await pooler.OpenAsync(configure: b => b.SslMode = SslMode.Prefer);
        Assert.False(Assert.Single(pooler.Pooler.GetClients()).Tls);
        Assert.Equal(1, await new NpgsqlCommand("select 1", preferring).ExecuteScalarAsync(Cancel));
    }

    private static async Task<string> PsqlAsync(string connectionString, params string[] commands)
    {
        var arguments = new List<string> { "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1" };
        foreach (var command in commands)
            arguments.AddRange(["-c", command]);
        arguments.Add(connectionString);
        var (_, output, _) = await PoolingFixture.RunToolAsync("psql", arguments, password: null);
        return output.Trim();
    }
}
