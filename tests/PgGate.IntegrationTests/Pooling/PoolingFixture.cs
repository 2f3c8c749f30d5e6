using System.Diagnostics;
using System.Net;
using Npgsql;
using PgGate.IntegrationTests.Fixtures;
using PgGate.Pooling;
using PgGate.Sandbox;

namespace PgGate.IntegrationTests.Pooling;

/// <summary>
/// A real PostgreSQL 15 primary (127.0.0.84) and streaming replica (127.0.0.85) for the pooler tests, with Pigsty's users
/// plus roles for each server-side authentication method, pgbench tables in database <c>test</c>, and Pigsty's
/// <c>pgbouncer_auth</c> function for auth_query. Poolers under test listen on 127.0.0.82 on free ports.
/// </summary>
public sealed class PoolingFixture : IAsyncLifetime
{
    /// <summary>Three comma-separated loopback addresses (pooler, primary, replica) replacing 127.0.0.82, .84 and .85,
    /// so two checkouts can run these tests side by side.</summary>
    public const string HostsVariable = "PGGATE_POOLING_TEST_HOSTS";

    public static readonly string PoolerHost = Hosts()[0];
    public const string Database = "test";

    /// <summary>Stored with MD5 on the server (pg_hba: md5).</summary>
    public static readonly LocalClusterUser Md5User = new("pool_md5", "md5-secret");

    /// <summary>No password at all (pg_hba: trust).</summary>
    public static readonly LocalClusterUser TrustUser = new("pool_trust", "unused");

    /// <summary>Known to the pooler only through auth_query (not in auth_file).</summary>
    public static readonly LocalClusterUser QueriedUser = new("pool_queried", "queried-secret");

    /// <summary>Runs auth_query for the pooler.</summary>
    public static readonly LocalClusterUser AuthUser = new("pool_auth", "auth-secret");

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(120);

    private LocalCluster? _cluster;

    public LocalCluster Cluster => _cluster ?? throw new InvalidOperationException("The pooling cluster is not started.");

    public LocalMember Primary => Cluster.Members[0];

    public LocalMember Replica => Cluster.Members[1];

    public async ValueTask InitializeAsync()
    {
        var options = new LocalClusterOptions
        {
            Name = "pooler-test",
            Hosts = [Hosts()[1], Hosts()[2]],
            Port = 5432,
            Users = [LocalClusterUser.Dba, LocalClusterUser.Monitor, LocalClusterUser.Test, LocalClusterUser.Replicator, QueriedUser, AuthUser],
        };
        _cluster = await LocalCluster.StartAsync(options, TestContextLogger.Instance, TestContext.Current.CancellationToken);
        await Primary.RunSqlAsync($"""
            SET password_encryption = 'md5';
            CREATE ROLE {Md5User.Name} LOGIN PASSWORD '{Md5User.Password}';
            RESET password_encryption;
            CREATE ROLE {TrustUser.Name} LOGIN;
            GRANT ALL ON DATABASE test TO {Md5User.Name}, {TrustUser.Name}, {QueriedUser.Name};
            CREATE FUNCTION public.pgbouncer_auth(p_username text) RETURNS TABLE(username text, password text)
                LANGUAGE sql SECURITY DEFINER AS 'SELECT rolname::text, rolpassword FROM pg_authid WHERE NOT rolsuper AND rolname = p_username';
            REVOKE ALL ON FUNCTION public.pgbouncer_auth(text) FROM public;
            GRANT EXECUTE ON FUNCTION public.pgbouncer_auth(text) TO {AuthUser.Name};
            """, Database);
        await Primary.RunSqlAsync("GRANT ALL ON SCHEMA public TO public", Database);
        foreach (var member in Cluster.Members)
        {
            await PrependHbaAsync(member);
        }

        await RunToolAsync("pgbench", ["-i", "-s", "1", "-q", "-h", Primary.Host, "-p", "5432", "-U", LocalClusterUser.Test.Name, Database],
            LocalClusterUser.Test.Password);
        await Replica.WaitUntilCaughtUpAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    /// <summary>Server-side methods the pooler must speak: MD5 for one role, trust for another, SCRAM for the rest.</summary>
    private static async Task PrependHbaAsync(LocalMember member)
    {
        var path = Path.Combine(member.DataDirectory, "pg_hba.conf");
        var existing = await File.ReadAllTextAsync(path);
        await File.WriteAllTextAsync(path, $"""
            host all {Md5User.Name} 127.0.0.0/8 md5
            host all {TrustUser.Name} 127.0.0.0/8 trust

            """ + existing);
        await member.RunSqlAsync("select pg_reload_conf()");
    }

    /// <summary>Starts a pooler on 127.0.0.82 (free port) sending database "*" to the primary, with an auth_file that
    /// knows test, dbuser_dba and the md5/trust roles, SCRAM for clients, and whatever <paramref name="configure"/> changes.</summary>
    public async Task<PoolerUnderTest> StartPoolerAsync(
        Func<PoolerSettings, PoolerSettings>? configure = null, IBackendResolver? resolver = null, string? userList = null, string? hba = null)
    {
        var directory = Directory.CreateTempSubdirectory("pggate-pooler-test-");
        var userListPath = Path.Combine(directory.FullName, "userlist.txt");
        await File.WriteAllTextAsync(userListPath, userList ?? $"""
            "{LocalClusterUser.Test.Name}" "{LocalClusterUser.Test.Password}"
            "{LocalClusterUser.Dba.Name}" "{LocalClusterUser.Dba.Password}"
            "{Md5User.Name}" "{Md5User.Password}"
            "{TrustUser.Name}" ""
            "{AuthUser.Name}" "{AuthUser.Password}"

            """);
        var hbaPath = Path.Combine(directory.FullName, "pgb_hba.conf");
        await File.WriteAllTextAsync(hbaPath, hba ?? "host all all 127.0.0.0/8 scram-sha-256\n");
        var settings = new PoolerSettings
        {
            ListenAddr = PoolerHost,
            ListenPort = 0,
            AuthType = PoolerAuthType.ScramSha256,
            AuthFile = userListPath,
            AuthHbaFile = hbaPath,
            DefaultPoolSize = 10,
            ReservePoolSize = 0,
            QueryWaitTimeout = TimeSpan.FromSeconds(30),
            ServerLoginRetry = TimeSpan.FromSeconds(1),
            Databases = [new PoolerDatabase { Name = PoolerDatabase.FallbackName, Host = Primary.Host, Port = Primary.Port }],
        };
        settings = configure?.Invoke(settings) ?? settings;
        var pooler = new Pooler(settings, TestContextLogger.Instance, resolver: resolver);
        var listener = new PoolerListener(pooler, new IPEndPoint(IPAddress.Parse(PoolerHost), 0));
        listener.Start();
        return new PoolerUnderTest(pooler, listener, directory);
    }

    /// <summary>Runs psql, pgbench... (as root is fine for clients) with PGPASSWORD set; returns stdout, throws with
    /// stderr on failure unless <paramref name="allowFailure"/>.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunToolAsync(
        string tool, IReadOnlyList<string> arguments, string? password, bool allowFailure = false, string? input = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        if (password is not null)
        {
            start.Environment["PGPASSWORD"] = password;
        }

        start.Environment["PGCONNECT_TIMEOUT"] = "10";
        if (environment is not null)
        {
            foreach (var (name, value) in environment)
            {
                start.Environment[name] = value;
            }
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {tool}");
        using var timeout = new CancellationTokenSource(CommandTimeout);
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }

        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', arguments)} did not finish within {CommandTimeout.TotalSeconds} s");
        }

        var result = (process.ExitCode, await output, await error);
        if (result.ExitCode != 0 && !allowFailure)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} exited with {result.ExitCode}:\n{result.Item3}\n{result.Item2}");
        }

        return result;
    }

    private static string[] Hosts()
    {
        var given = Environment.GetEnvironmentVariable(HostsVariable);
        if (string.IsNullOrWhiteSpace(given))
            return ["127.0.0.82", "127.0.0.84", "127.0.0.85"];
        var list = given.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (list.Length != 3 || !list.All(h => IPAddress.TryParse(h, out _)))
            throw new InvalidOperationException($"{HostsVariable}='{given}' must be three comma-separated IPv4 loopback addresses.");
        return list;
    }
}

/// <summary>A running pooler with its listener and files; disposing stops it and deletes the files.</summary>
public sealed class PoolerUnderTest(Pooler pooler, PoolerListener listener, DirectoryInfo directory) : IAsyncDisposable
{
    public Pooler Pooler { get; } = pooler;

    public int Port => listener.Endpoint.Port;

    public string Host => PoolingFixture.PoolerHost;

    public DirectoryInfo Directory { get; } = directory;

    public string ConnectionString(
        string user = "test", string? password = "test", string database = PoolingFixture.Database, Action<NpgsqlConnectionStringBuilder>? configure = null)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = Host,
            Port = Port,
            Username = user,
            Password = password,
            Database = database,
            Pooling = false,
            Timeout = 15,
            CommandTimeout = 60,
            SslMode = SslMode.Disable,
        };
        configure?.Invoke(builder);
        return builder.ConnectionString;
    }

    public async Task<NpgsqlConnection> OpenAsync(
        string user = "test", string? password = "test", string database = PoolingFixture.Database, Action<NpgsqlConnectionStringBuilder>? configure = null)
    {
        var connection = new NpgsqlConnection(ConnectionString(user, password, database, configure));
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        return connection;
    }

    /// <summary>libpq-style arguments for psql/pgbench against the pooler.</summary>
    public string[] LibpqArguments(string user = "test", string database = PoolingFixture.Database) =>
        ["-h", Host, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", user, database];

    public async ValueTask DisposeAsync()
    {
        await listener.DisposeAsync();
        await Pooler.DisposeAsync();
        Directory.Delete(recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class PoolingCollection : ICollectionFixture<PoolingFixture>
{
    public const string Name = "pooling";
}
