using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using PgGate.Pooling;
using PgGate.Protocol;
using PgGate.Sandbox;

namespace PgGate.IntegrationTests.Pooling;

/// <summary>
/// Authentication on both sides. Clients: scram-sha-256, md5, password and trust against userlist.txt (plain passwords,
/// MD5 hashes or SCRAM verifiers), auth_query through an auth_user, and an HBA file whose rules apply in order. Servers:
/// SCRAM with a stored password, MD5 with a stored hash, trust, and SCRAM pass-through with the keys of the client's own
/// exchange. Failures answer 28P01 (wrong password) or 28000 (no rule, reject) and are counted.
/// </summary>
[Collection(PoolingCollection.Name)]
public sealed class AuthTests(PoolingFixture fixture)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(PoolerAuthType.ScramSha256)]
    [InlineData(PoolerAuthType.Md5)]
    [InlineData(PoolerAuthType.Password)]
    public async Task A_right_password_logs_in_and_a_wrong_one_gets_28P01(PoolerAuthType method)
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { AuthType = method });
        await using (var connection = await pooler.OpenAsync())
            Assert.Equal("test", await ScalarAsync(connection, "select current_user"));

        var error = await Assert.ThrowsAsync<PostgresException>(() => pooler.OpenAsync(password: "not-the-password"));
        Assert.Equal("28P01", error.SqlState);

        // Npgsql may try more than once; one connection that fails once is counted once.
        var failures = pooler.Pooler.AuthenticationFailures;
        await using (var raw = await RawPgClient.OpenAsync(pooler.Host, pooler.Port, Cancel))
        {
            var startup = new ArrayBufferWriter<byte>();
            FrontendMessageWriter.WriteStartupMessage(startup, [new("user", "test"), new("database", PoolingFixture.Database)]);
            await raw.SendAsync(startup.WrittenMemory, Cancel);
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => raw.LoginAsync("test", "not-the-password", Cancel));
            Assert.Contains("28P01", refused.Message, StringComparison.Ordinal);
        }
        Assert.Equal(failures + 1, pooler.Pooler.AuthenticationFailures);
    }

    [Fact]
    public async Task Trust_takes_the_user_name_as_given()
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { AuthType = PoolerAuthType.Trust });
        await using var connection = await pooler.OpenAsync(password: "anything");
        Assert.Equal("test", await ScalarAsync(connection, "select current_user"));
    }

    [Fact]
    public async Task A_SCRAM_verifier_in_the_userlist_serves_clients_and_passes_their_keys_through_to_the_server()
    {
        // No password in plain text anywhere: the userlist holds PostgreSQL's own verifier, and the pooler logs in to the
        // server with the keys the client's SCRAM exchange proved.
        var verifier = await fixture.Primary.RunSqlAsync($"select rolpassword from pg_authid where rolname = '{LocalClusterUser.Test.Name}'", Cancel);
        Assert.StartsWith("SCRAM-SHA-256$", verifier, StringComparison.Ordinal);
        await using var pooler = await fixture.StartPoolerAsync(
            s => s with { AuthType = PoolerAuthType.ScramSha256 }, userList: $"\"test\" \"{verifier}\"\n");

        await using (var connection = await pooler.OpenAsync())
            Assert.Equal("test", await ScalarAsync(connection, "select current_user"));
        var error = await Assert.ThrowsAsync<PostgresException>(() => pooler.OpenAsync(password: "wrong"));
        Assert.Equal("28P01", error.SqlState);
    }

    [Fact]
    public async Task An_MD5_hash_in_the_userlist_logs_in_to_a_server_that_asks_for_md5()
    {
        var user = PoolingFixture.Md5User;
        var hash = "md5" + Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(user.Password + user.Name)));
        await using var pooler = await fixture.StartPoolerAsync(s => s with { AuthType = PoolerAuthType.Md5 }, userList: $"\"{user.Name}\" \"{hash}\"\n");

        await using var connection = await pooler.OpenAsync(user.Name, user.Password);
        Assert.Equal(user.Name, await ScalarAsync(connection, "select current_user"));
        var error = await Assert.ThrowsAsync<PostgresException>(() => pooler.OpenAsync(user.Name, "wrong"));
        Assert.Equal("28P01", error.SqlState);
    }

    [Fact]
    public async Task Auth_query_finds_users_that_are_not_in_the_userlist()
    {
        var auth = PoolingFixture.AuthUser;
        var queried = PoolingFixture.QueriedUser;
        await using var pooler = await fixture.StartPoolerAsync(s => s with
        {
            AuthType = PoolerAuthType.ScramSha256,
            AuthUser = auth.Name,
            AuthQuery = "SELECT username, password FROM public.pgbouncer_auth($1)",
        }, userList: $"\"{auth.Name}\" \"{auth.Password}\"\n");

        await using (var connection = await pooler.OpenAsync(queried.Name, queried.Password))
            Assert.Equal(queried.Name, await ScalarAsync(connection, "select current_user"));
        var wrong = await Assert.ThrowsAsync<PostgresException>(() => pooler.OpenAsync(queried.Name, "wrong"));
        Assert.Equal("28P01", wrong.SqlState);
        var unknown = await Assert.ThrowsAsync<PostgresException>(() => pooler.OpenAsync("nobody_at_all", "x"));
        Assert.Equal("28P01", unknown.SqlState);
    }

    [Fact]
    public async Task HBA_rules_apply_in_order_with_their_methods_and_reject_what_no_rule_allows()
    {
        var md5 = PoolingFixture.Md5User;
        var trust = PoolingFixture.TrustUser;
        await using var pooler = await fixture.StartPoolerAsync(s => s with { AuthType = PoolerAuthType.Hba }, hba: $"""
            # TYPE  DATABASE  USER         ADDRESS       METHOD
            host    all       {md5.Name}   127.0.0.0/8   md5
            host    all       {trust.Name} 127.0.0.0/8   trust
            host    all       dbuser_dba   127.0.0.0/8   reject
            hostssl all       test         127.0.0.0/8   scram-sha-256
            host    postgres  test         127.0.0.0/8   scram-sha-256
            host    all       all          10.0.0.0/8    trust

            """);

        await using (var connection = await pooler.OpenAsync(md5.Name, md5.Password))
            Assert.Equal(md5.Name, await ScalarAsync(connection, "select current_user"));
        Assert.Equal("28P01", (await Assert.ThrowsAsync<PostgresException>(() => pooler.OpenAsync(md5.Name, "wrong"))).SqlState);

        await using (var connection = await pooler.OpenAsync(trust.Name, "whatever"))
            Assert.Equal(trust.Name, await ScalarAsync(connection, "select current_user"));

        var failures = pooler.Pooler.AuthenticationFailures;
        var rejected = await Assert.ThrowsAsync<PostgresException>(() => pooler.OpenAsync(LocalClusterUser.Dba.Name, LocalClusterUser.Dba.Password));
        Assert.Equal("28000", rejected.SqlState);
        // test over plain TCP to database test: the hostssl line does not match, the postgres line is another database,
        // the last is another network: no rule, so no entry.
        var unmatched = await Assert.ThrowsAsync<PostgresException>(() => pooler.OpenAsync());
        Assert.Equal("28000", unmatched.SqlState);
        Assert.Contains("test", unmatched.MessageText, StringComparison.Ordinal);
        Assert.True(pooler.Pooler.AuthenticationFailures >= failures + 2, "HBA refusals are counted as authentication failures");
    }

    private static async Task<string?> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (string?)await command.ExecuteScalarAsync(Cancel);
    }
}
