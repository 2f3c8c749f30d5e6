using System.Diagnostics;
using Npgsql;
using PgGate.Sandbox;

namespace PgGate.IntegrationTests.Fixtures;

/// <summary>Npgsql as a test client of sandbox members: unpooled, so a killed server leaves no stale pooled connection.</summary>
public static class PgClient
{
    public static string ConnectionString(LocalMember member, LocalClusterUser user, string database = "test") =>
        new NpgsqlConnectionStringBuilder(member.ConnectionString(user, database)) { Pooling = false, Timeout = 5 }.ConnectionString;

    public static async Task<NpgsqlConnection> OpenAsync(LocalMember member, LocalClusterUser user, string database = "test")
    {
        var connection = new NpgsqlConnection(ConnectionString(member, user, database));
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        return connection;
    }

    public static async Task<T> ScalarAsync<T>(LocalMember member, string sql, LocalClusterUser? user = null, string database = "test")
    {
        await using var connection = await OpenAsync(member, user ?? LocalClusterUser.Dba, database);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    public static async Task ExecuteAsync(LocalMember member, string sql, LocalClusterUser? user = null, string database = "test")
    {
        await using var connection = await OpenAsync(member, user ?? LocalClusterUser.Dba, database);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Polls until the condition holds; fails the test with <paramref name="what"/> after the timeout.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        Exception? last = null;
        while (stopwatch.Elapsed < timeout)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception e) when (e is NpgsqlException or SandboxException)
            {
                last = e;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Fail($"Timed out after {timeout.TotalSeconds:0} s waiting for {what}." + (last is null ? "" : $" Last error: {last.Message}"));
    }
}
