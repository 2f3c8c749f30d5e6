using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using PgGate.IntegrationTests.Cli;
using PgGate.Sandbox;

namespace PgGate.IntegrationTests.Pooling;

/// <summary>
/// The switch from PgBouncer: Pigsty's pgbouncer.ini, useropts.txt, database.txt, pgb_hba.conf and userlist.txt exactly as
/// rendered for pg-test-1 (tests/PgGate.Tests/Pooling/Data/Pigsty), with only addresses and paths adapted to the fixture,
/// served by a real <c>pggate pooler --ini</c> process to psql and pgbench; SIGHUP reloads it, the console's SHUTDOWN stops it.
/// </summary>
[Collection(PoolingCollection.Name)]
public sealed class ConsolePigstyIniTests(PoolingFixture fixture)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Pigsty_pgbouncer_ini_runs_under_pggate_pooler_and_serves_psql_and_pgbench()
    {
        var directory = Directory.CreateTempSubdirectory("pggate-pigsty-ini-");
        try
        {
            var port = FreePort();
            var ini = await RenderAsync(directory, port);
            await using var process = PggateProcess.Start("pooler", "--ini", ini);
            await WaitUntilServingAsync(process, port);
            Assert.DoesNotContain("unix_socket_dir", process.Output.Replace("unix_socket_dir is not supported", string.Empty, StringComparison.Ordinal),
                StringComparison.Ordinal);
            Assert.Contains($"{ini}:29: unix_socket_dir is not supported, ignored", process.Output, StringComparison.Ordinal);

            // A business user through the pooler, as with PgBouncer.
            var (_, output, _) = await PoolingFixture.RunToolAsync("psql",
                [.. Libpq(port, LocalClusterUser.Test.Name, "test"), "-X", "-At", "-c", "select current_user || '@' || current_database()"],
                LocalClusterUser.Test.Password);
            Assert.Equal("test@test", output.Trim());

            (_, output, _) = await PoolingFixture.RunToolAsync("pgbench",
                [.. Libpq(port, LocalClusterUser.Test.Name, "test"), "-n", "-S", "-c", "4", "-j", "2", "-t", "50"], LocalClusterUser.Test.Password);
            Assert.Contains("number of transactions actually processed: 200/200", output, StringComparison.Ordinal);
            (_, output, _) = await PoolingFixture.RunToolAsync("pgbench",
                [.. Libpq(port, LocalClusterUser.Test.Name, "test"), "-n", "-S", "-M", "prepared", "-c", "2", "-t", "25"], LocalClusterUser.Test.Password);
            Assert.Contains("number of transactions actually processed: 50/50", output, StringComparison.Ordinal);

            // Pigsty's monitor user reads the console (stats_users; from this host pgb_hba's localhost rule 150 applies).
            var (code, stats, error) = await ConsoleClient.PsqlAsync(PoolingFixture.PoolerHost, port, LocalClusterUser.Monitor, "SHOW STATS_TOTALS");
            Assert.True(code == 0, error);
            var totals = stats.Split('\n').Single(l => l.StartsWith("test|", StringComparison.Ordinal)).Split('|');
            Assert.True(long.Parse(totals[1], CultureInfo.InvariantCulture) >= 250, stats);
            (code, _, error) = await ConsoleClient.PsqlAsync(
                PoolingFixture.PoolerHost, port, new LocalClusterUser(LocalClusterUser.Monitor.Name, "wrong"), "SHOW VERSION");
            Assert.NotEqual(0, code);
            Assert.Contains("password authentication failed for user \"dbuser_monitor\"", error, StringComparison.Ordinal);

            // SIGHUP re-reads the ini.
            await File.WriteAllTextAsync(ini, (await File.ReadAllTextAsync(ini, Cancel))
                .Replace("default_pool_size           = 50", "default_pool_size           = 7", StringComparison.Ordinal), Cancel);
            using (var hup = Process.Start("kill", ["-HUP", process.ProcessId.ToString(CultureInfo.InvariantCulture)]))
            {
                await hup.WaitForExitAsync(Cancel);
            }

            var deadline = DateTime.UtcNow + Bound;
            string config;
            do
            {
                (_, config, _) = await ConsoleClient.PsqlAsync(PoolingFixture.PoolerHost, port, LocalClusterUser.Monitor, "SHOW CONFIG");
            }
            while (!config.Contains("default_pool_size|7|", StringComparison.Ordinal) && DateTime.UtcNow < deadline && await Delay());
            Assert.Contains("default_pool_size|7|", config, StringComparison.Ordinal);

            // SHUTDOWN from the console ends the process cleanly.
            (code, _, error) = await ConsoleClient.PsqlAsync(PoolingFixture.PoolerHost, port, LocalClusterUser.Dba, "SHUTDOWN");
            Assert.True(await process.WaitForExitAsync(Bound), "pggate pooler did not exit after SHUTDOWN:\n" + process.Output);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Sigint_lets_the_running_transaction_finish_then_stops()
    {
        var directory = Directory.CreateTempSubdirectory("pggate-pigsty-ini-");
        try
        {
            var port = FreePort();
            var ini = await RenderAsync(directory, port);
            await using var process = PggateProcess.Start("pooler", "--ini", ini);
            await WaitUntilServingAsync(process, port);
            var builder = new Npgsql.NpgsqlConnectionStringBuilder
            {
                Host = PoolingFixture.PoolerHost, Port = port, Username = LocalClusterUser.Test.Name, Password = LocalClusterUser.Test.Password,
                Database = "test", Pooling = false, Timeout = 15, SslMode = Npgsql.SslMode.Disable,
            };
            await using var client = new Npgsql.NpgsqlConnection(builder.ConnectionString);
            await client.OpenAsync(Cancel);
            await using var transaction = await client.BeginTransactionAsync(Cancel);
            await using (var first = new Npgsql.NpgsqlCommand("select 1", client))
            {
                Assert.Equal(1, await first.ExecuteScalarAsync(Cancel));
            }

            using (var interrupt = Process.Start("kill", ["-INT", process.ProcessId.ToString(CultureInfo.InvariantCulture)]))
            {
                await interrupt.WaitForExitAsync(Cancel);
            }

            await WaitForOutputAsync(process, "SIGINT: waiting for running transactions");
            // The transaction in flight is not cut off by the safe shutdown...
            await using (var second = new Npgsql.NpgsqlCommand("select 2", client))
            {
                Assert.Equal(2, await second.ExecuteScalarAsync(Cancel));
            }

            Assert.False(process.HasExited);
            await transaction.CommitAsync(Cancel);
            // ...and once it ends, the pooler stops.
            Assert.True(await process.WaitForExitAsync(Bound), "pggate pooler did not exit after SIGINT:\n" + process.Output);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task WaitForOutputAsync(PggateProcess process, string text)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!process.Output.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"pggate did not log \"{text}\":\n" + process.Output);
            }

            await Task.Delay(50, Cancel);
        }
    }

    [Fact]
    public async Task A_broken_ini_ends_pggate_pooler_with_one_line_and_exit_code_2()
    {
        var directory = Directory.CreateTempSubdirectory("pggate-pigsty-ini-");
        try
        {
            var ini = Path.Combine(directory.FullName, "pgbouncer.ini");
            await File.WriteAllTextAsync(ini, "[pgbouncer]\nlisten_addr = 127.0.0.1\nmax_client_conn = lots\n", Cancel);

            var (code, _, stderr) = await PggateProcess.RunAsync("pooler", ini);

            Assert.Equal(2, code);
            Assert.Equal($"pggate: {ini}:3: max_client_conn = lots: expected a whole number >= 0", stderr.Trim());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Copies Pigsty's files, adapting only what differs on this machine: /etc/pgbouncer → the temporary directory,
    /// listen_addr/port → the fixture's pooler address and a free port, host=/var/run/postgresql → the primary's address,
    /// the intranet 10.0.0.0/8 of pgb_hba.conf → 127.0.0.0/8. userlist.txt is rendered as Pigsty's pgb-user does, from pg_authid.</summary>
    private async Task<string> RenderAsync(DirectoryInfo directory, int port)
    {
        var source = DataDirectory();
        foreach (var name in new[] { "pgbouncer.ini", "database.txt", "useropts.txt", "pgb_hba.conf" })
        {
            var text = (await File.ReadAllTextAsync(Path.Combine(source, name), Cancel))
                .Replace("/etc/pgbouncer/", directory.FullName + "/", StringComparison.Ordinal)
                .Replace("listen_addr                 = *", "listen_addr                 = " + PoolingFixture.PoolerHost, StringComparison.Ordinal)
                .Replace("listen_port                 = 6432", "listen_port                 = " + port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("host=/var/run/postgresql", "host=" + fixture.Primary.Host, StringComparison.Ordinal)
                .Replace("10.0.0.0/8", "127.0.0.0/8", StringComparison.Ordinal);
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, name), text, Cancel);
        }

        var secrets = await fixture.Primary.RunSqlAsync(
            "select string_agg(format('\"%s\" \"%s\"', rolname, rolpassword), E'\\n') from pg_authid " +
            "where rolname in ('dbuser_dba', 'dbuser_monitor', 'test')", Cancel);
        var lines = secrets.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Append("\"postgres\" \"\"")
            .Distinct().OrderByDescending(l => l, StringComparer.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(directory.FullName, "userlist.txt"), string.Join('\n', lines) + "\n", Cancel);
        return Path.Combine(directory.FullName, "pgbouncer.ini");
    }

    private static string DataDirectory([CallerFilePath] string thisFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "..", "PgGate.Tests", "Pooling", "Data", "Pigsty"));

    private static string[] Libpq(int port, string user, string database) =>
        ["-h", PoolingFixture.PoolerHost, "-p", port.ToString(CultureInfo.InvariantCulture), "-U", user, database];

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Parse(PoolingFixture.PoolerHost), 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static async Task WaitUntilServingAsync(PggateProcess process, int port)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException("pggate pooler exited:\n" + process.Output);
            }

            var (code, _, _) = await ConsoleClient.PsqlAsync(PoolingFixture.PoolerHost, port, LocalClusterUser.Monitor, "SHOW VERSION");
            if (code == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("pggate pooler did not answer within 60 s:\n" + process.Output);
            }

            await Task.Delay(200, Cancel);
        }
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(200, Cancel);
        return true;
    }
}
