using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PgGate.IntegrationTests.Protocol;

/// <summary>
/// One throwaway PostgreSQL 15 instance for the protocol tests, on 127.0.0.51 and a free port, with three login roles
/// authenticated by scram-sha-256, md5 and trust. Self-contained on purpose (the shared sandbox may replace it):
/// initdb as the postgres OS user (PostgreSQL refuses root), fsync off, data and socket in a temp directory that is
/// stopped and deleted on dispose.
/// </summary>
public sealed class ProtocolPostgresFixture : IAsyncLifetime
{
    public const string Host = "127.0.0.51";
    public const string ScramUser = "proto_scram";
    public const string ScramPassword = "scram-secret";
    public const string Md5User = "proto_md5";
    public const string Md5Password = "md5-secret";
    public const string TrustUser = "proto_trust";
    public const string Superuser = "postgres";

    private const string BinDirectory = "/usr/lib/postgresql/15/bin";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "pggate-proto-" + Guid.NewGuid().ToString("N")[..12]);
    private bool _started;

    public int Port { get; private set; }

    /// <summary>The directory holding the Unix socket (PgClientOptions.Host for a socket connection).</summary>
    public string SocketDirectory => _root;

    private string DataDirectory => Path.Combine(_root, "data");

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(Path.Combine(BinDirectory, "initdb")))
        {
            throw new InvalidOperationException(
                $"PostgreSQL 15 is not installed ({BinDirectory}/initdb is missing). Install it with: apt-get install -y postgresql-15");
        }

        Directory.CreateDirectory(_root);
        if (Environment.IsPrivilegedProcess)
        {
            await RunAsync("chown", ["postgres:postgres", _root], asPostgres: false);
        }

        await RunAsync(Path.Combine(BinDirectory, "initdb"),
            ["-D", DataDirectory, "-U", Superuser, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]);

        Port = FindFreePort();
        // Both files exist after initdb and stay owned by postgres when rewritten.
        await File.AppendAllTextAsync(Path.Combine(DataDirectory, "postgresql.conf"), $"""

            listen_addresses = '{Host}'
            port = {Port}
            unix_socket_directories = '{_root}'
            fsync = off
            synchronous_commit = off
            full_page_writes = off
            password_encryption = 'scram-sha-256'
            max_connections = 30

            """);
        await File.WriteAllTextAsync(Path.Combine(DataDirectory, "pg_hba.conf"), $"""
            local all all trust
            host all {TrustUser} 127.0.0.0/8 trust
            host all {Md5User} 127.0.0.0/8 md5
            host all {ScramUser} 127.0.0.0/8 scram-sha-256
            host all {Superuser} 127.0.0.0/8 trust
            host all all 127.0.0.0/8 scram-sha-256

            """);

        await RunAsync(Path.Combine(BinDirectory, "pg_ctl"),
            ["-D", DataDirectory, "-l", Path.Combine(_root, "postgres.log"), "-w", "-t", "30", "start"]);
        _started = true;

        await PsqlAsync($"""
            CREATE ROLE {ScramUser} LOGIN PASSWORD '{ScramPassword}';
            SET password_encryption = 'md5';
            CREATE ROLE {Md5User} LOGIN PASSWORD '{Md5Password}';
            CREATE ROLE {TrustUser} LOGIN;
            """);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_started)
            {
                await RunAsync(Path.Combine(BinDirectory, "pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]);
            }
        }
        finally
        {
            if (Directory.Exists(_root))
            {
                Directory.Delete(_root, recursive: true);
            }
        }
    }

    /// <summary>Runs SQL as the superuser over the Unix socket with psql (independent of the client under test).</summary>
    public Task<string> PsqlAsync(string sql) =>
        RunAsync(Path.Combine(BinDirectory, "psql"),
            ["-h", _root, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", Superuser, "-d", "postgres",
             "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql]);

    private static int FindFreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Parse(Host), 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private static async Task<string> RunAsync(string program, string[] arguments, bool asPostgres = true)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asPostgres && Environment.IsPrivilegedProcess)
        {
            start.FileName = "runuser";
            foreach (var argument in (string[])["-u", "postgres", "--", program])
            {
                start.ArgumentList.Add(argument);
            }
        }
        else
        {
            start.FileName = program;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        using var timeout = new CancellationTokenSource(CommandTimeout);
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish within {CommandTimeout.TotalSeconds} s.");
        }

        if (process.ExitCode != 0)
        {
            var message = new StringBuilder()
                .Append(program).Append(' ').AppendJoin(' ', arguments)
                .Append(" failed with exit code ").Append(process.ExitCode).AppendLine(":")
                .AppendLine(await stderr)
                .Append(await stdout);
            throw new InvalidOperationException(message.ToString());
        }

        return (await stdout).Trim();
    }
}

[CollectionDefinition(Name)]
public sealed class ProtocolPostgresCollection : ICollectionFixture<ProtocolPostgresFixture>
{
    public const string Name = "Protocol PostgreSQL";
}
