using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;
using PgGate.Cluster;
using PgGate.Config;
using PgGate.Hosting;
using PgGate.IntegrationTests.Fixtures;
using PgGate.Sandbox;

namespace PgGate.IntegrationTests.Services;

/// <summary>
/// PgGate serving the fixture's cluster the way production runs it: one node per member, each binding
/// its member's address (node 127.0.0.11 serves 127.0.0.11:5433 ...), configured in native YAML with
/// Pigsty's default services, the sql health source and the fast RTO plan.
/// </summary>
public sealed class GateUnderTest : IAsyncDisposable
{
    private readonly ILoggerFactory _loggers;

    private GateUnderTest(GateHost host, GateConfig config, ILoggerFactory loggers)
    {
        Host = host;
        Config = config;
        _loggers = loggers;
    }

    public GateHost Host { get; }
    public GateConfig Config { get; }
    public ClusterMonitor Monitor => Host.Monitors[0];

    public static string Yaml(LocalCluster cluster, string extraServices = "", string? extraMember = null, string options = "") => $$"""
        clusters:
          {{cluster.Name}}:
            members:
              - { name: {{cluster.Members[0].Name}}, host: {{cluster.Members[0].Host}}, role: primary }
              - { name: {{cluster.Members[1].Name}}, host: {{cluster.Members[1].Host}}, role: replica }
              - { name: {{cluster.Members[2].Name}}, host: {{cluster.Members[2].Host}}, role: replica, offline_query: true }
        {{extraMember ?? ""}}
            default_service_dest: postgres
            health:
              source: sql
              rto: fast
              sql: { user: dbuser_monitor, password: DBUser.Monitor }
            services:
              - pigsty-defaults
        {{extraServices}}
        admin: { listen: "*:9101" }
        """;

    public static async Task<GateUnderTest> StartAsync(LocalCluster cluster, string? yaml = null)
    {
        var config = ConfigLoader.LoadNativeFromString(yaml ?? Yaml(cluster), "test.yml");
        var loggers = LoggerFactory.Create(b => b.AddProvider(new TestLoggerProvider()).SetMinimumLevel(LogLevel.Information));
        var nodes = cluster.Members.Select(m => new NodeSpec(m.Name, m.Host)).ToArray();
        var host = new GateHost(config, nodes, loggers);
        await host.StartAsync(TestContext.Current.CancellationToken);
        var gate = new GateUnderTest(host, config, loggers);
        await gate.Monitor.WaitForAsync(v => v.Leader is not null && v.Members.All(m => m.Checks.All(c => c.Phase != CheckPhase.Init)),
            TimeSpan.FromSeconds(15), TestContext.Current.CancellationToken);
        return gate;
    }

    public static string Url(string host, int port, LocalClusterUser user, string database = "test") =>
        new NpgsqlConnectionStringBuilder
        {
            Host = host,
            Port = port,
            Username = user.Name,
            Password = user.Password,
            Database = database,
            Pooling = false,
            Timeout = 10,
            CommandTimeout = 10,
        }.ConnectionString;

    public static async Task<NpgsqlConnection> OpenAsync(string host, int port, LocalClusterUser? user = null)
    {
        var connection = new NpgsqlConnection(Url(host, port, user ?? LocalClusterUser.Test));
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        return connection;
    }

    /// <summary>Which member answered and whether it is a replica: <c>(inet_server_addr, pg_is_in_recovery)</c>.</summary>
    public static async Task<(string Address, bool InRecovery)> WhoAsync(NpgsqlConnection connection)
    {
        await using var cmd = new NpgsqlCommand("select host(inet_server_addr()), pg_is_in_recovery()", connection);
        await using var reader = await cmd.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        await reader.ReadAsync(TestContext.Current.CancellationToken);
        return (reader.GetString(0), reader.GetBoolean(1));
    }

    public static async Task<(string Address, bool InRecovery)> WhoAsync(string host, int port, LocalClusterUser? user = null)
    {
        await using var connection = await OpenAsync(host, port, user);
        return await WhoAsync(connection);
    }

    /// <summary>Runs psql against a service and returns its trimmed output.</summary>
    public static async Task<string> PsqlAsync(string host, int port, LocalClusterUser user, string sql)
    {
        var psi = new ProcessStartInfo(PostgresInstallation.Find().Psql)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["PGPASSWORD"] = user.Password, ["PGCONNECT_TIMEOUT"] = "10" },
        };
        foreach (var a in (string[])["-h", host, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", user.Name, "-d", "test", "-X", "-A", "-t", "-c", sql])
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await p.WaitForExitAsync(TestContext.Current.CancellationToken);
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"psql exited {p.ExitCode}: {(await error).Trim()}");
        return (await output).Trim();
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        _loggers.Dispose();
    }

    private sealed class TestLoggerProvider : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => TestContextLogger.Instance;
        public void Dispose() { }
    }
}
