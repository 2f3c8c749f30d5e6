using Npgsql;
using PgGate.Sandbox;

namespace PgGate.IntegrationTests.Pooling;

/// <summary>Ways into the admin console of a pooler under test: psql (simple protocol) and Npgsql (extended protocol).</summary>
internal static class ConsoleClient
{
    public static readonly LocalClusterUser AdminUser = LocalClusterUser.Dba;
    public static readonly LocalClusterUser StatsUser = LocalClusterUser.Monitor;

    /// <summary>The fixture's default users plus the stats user, with plain passwords.</summary>
    public static string UserList => $"""
        "{LocalClusterUser.Test.Name}" "{LocalClusterUser.Test.Password}"
        "{AdminUser.Name}" "{AdminUser.Password}"
        "{StatsUser.Name}" "{StatsUser.Password}"

        """;

    /// <summary>Runs one console command with psql -A (header line, rows, "(n rows)"); returns exit code and output.</summary>
    public static Task<(int ExitCode, string Output, string Error)> PsqlAsync(
        string host, int port, LocalClusterUser user, string command, string database = "pgbouncer") =>
        PoolingFixture.RunToolAsync("psql",
            ["-h", host, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", user.Name, "-X", "-A", "-v", "VERBOSITY=verbose",
             "-c", command, database],
            user.Password, allowFailure: true);

    public static Task<(int ExitCode, string Output, string Error)> PsqlAsync(PoolerUnderTest pooler, LocalClusterUser user, string command) =>
        PsqlAsync(pooler.Host, pooler.Port, user, command);

    /// <summary>An Npgsql connection to the console (no type loading: the console has no pg_type).</summary>
    public static Task<NpgsqlConnection> OpenAsync(PoolerUnderTest pooler, LocalClusterUser user) =>
#pragma warning disable CS0618 // The connection-string switch keeps this a one-liner; the data source builder would do the same.
        pooler.OpenAsync(user.Name, user.Password, "pgbouncer", b => b.ServerCompatibilityMode = ServerCompatibilityMode.NoTypeLoading);
#pragma warning restore CS0618

    /// <summary>The rows of a SHOW command as dictionaries column → value.</summary>
    public static async Task<List<Dictionary<string, object?>>> ShowAsync(NpgsqlConnection console, string command)
    {
        await using var cmd = new NpgsqlCommand(command, console);
        await using var reader = await cmd.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var rows = new List<Dictionary<string, object?>>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < reader.FieldCount; i++)
            {
                row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }
}
