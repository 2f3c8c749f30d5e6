using System.Diagnostics;
using System.Net.Sockets;
using PgGate.Config;
using PgGate.Sandbox;
using PgGate.Sandbox.Patroni;

namespace PgGate.IntegrationTests.Failover;

/// <summary>
/// The stack PgGate replaces, configured as Pigsty configures it, in front of the failover fixture's Patroni cluster:
/// PgBouncer 1.18 beside every member (transaction pooling, to its own PostgreSQL; Pigsty's pgbouncer.ini less max_prepared_statements, which 1.18 lacks; on port 6433 since PgGate's node
/// pooler holds 6432) and HAProxy 2.6 with Pigsty's <c>haproxy.cfg</c> and the service files PgGate's HAProxy renderer
/// (<c>pggate check-config --haproxy</c>) writes for Pigsty's default services, checking Patroni's REST API with the
/// same RTO plan as the Patroni cluster (<c>fast</c>). HAProxy binds one address of its own. Every process is stopped by
/// PID on dispose.
/// </summary>
public sealed class PigstyStack : IAsyncDisposable
{
    public const int PgBouncerPort = 6433;

    private readonly List<Process> _processes = [];
    private readonly DirectoryInfo _directory;

    private PigstyStack(DirectoryInfo directory, string address)
    {
        _directory = directory;
        Address = address;
    }

    /// <summary>Where HAProxy's services listen: primary 5433, replica 5434 (both to PgBouncer).</summary>
    public string Address { get; }

    public LoadTarget Target => new(Address, 5433, 5434, LocalClusterUser.Test.Name, LocalClusterUser.Test.Password);

    public static string? MissingReason() =>
        File.Exists("/usr/sbin/haproxy") && File.Exists("/usr/sbin/pgbouncer") ? null : "HAProxy and PgBouncer (Debian's haproxy, pgbouncer) are needed";

    public static async Task<PigstyStack> StartAsync(PatroniCluster cluster, string address, CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory("pggate-pigsty-");
        if (OperatingSystem.IsLinux())
            File.SetUnixFileMode(directory.FullName, (UnixFileMode)0b111_111_111);
        var stack = new PigstyStack(directory, address);
        try
        {
            var userList = Path.Combine(directory.FullName, "userlist.txt");
            await File.WriteAllTextAsync(userList, string.Concat(LocalClusterUser.PigstyDefaults.Select(u => $"\"{u.Name}\" \"{u.Password}\"\n")), cancellationToken);
            foreach (var m in cluster.Members)
            {
                var ini = Path.Combine(directory.FullName, $"pgbouncer-{m.Name}.ini");
                await File.WriteAllTextAsync(ini, $"""
                    [databases]
                    * = host={m.Host} port={m.Port}
                    [pgbouncer]
                    pool_mode = transaction
                    listen_addr = {m.Host}
                    listen_port = {PgBouncerPort}
                    unix_socket_dir =
                    auth_type = scram-sha-256
                    auth_file = {userList}
                    server_reset_query = DISCARD ALL
                    max_client_conn = 20000
                    default_pool_size = 50
                    reserve_pool_size = 30
                    reserve_pool_timeout = 1
                    server_lifetime = 600
                    max_db_connections = 100
                    max_user_connections = 100
                    ignore_startup_parameters = extra_float_digits,application_name,TimeZone,DateStyle,IntervalStyle,search_path
                    pidfile = {directory.FullName}/pgbouncer-{m.Name}.pid
                    logfile = {directory.FullName}/pgbouncer-{m.Name}.log

                    """, cancellationToken);
                stack.Start("/usr/sbin/pgbouncer", ["-u", "postgres", ini], Path.Combine(directory.FullName, $"pgbouncer-{m.Name}.out"));
            }

            // Pigsty's HAProxy: the main file and one file per default service, as PgGate's renderer writes them for
            // pg_default_service_dest: pgbouncer and the cluster's RTO plan; every `bind *:` moved to HAProxy's own address.
            var config = ConfigLoader.LoadNativeFromString(Yaml(cluster), "pigsty-haproxy.yml").Clusters[0];
            var confd = Directory.CreateDirectory(Path.Combine(directory.FullName, "conf.d"));
            foreach (var (file, text) in HaproxyConfigRenderer.RenderServiceFiles(config, cluster.Members[0].Host,
                // Pigsty writes the fast plan's 0.5s, which HAProxy 2.6 refuses; 500ms is the same time.
                new HaproxyRenderOptions { HaproxyCompatibleTimes = true }))
                await File.WriteAllTextAsync(Path.Combine(confd.FullName, file), text.Replace("bind *:", $"bind {address}:", StringComparison.Ordinal), cancellationToken);
            var main = HaproxyConfigRenderer.RenderMain(new HaproxyMainSettings
            {
                NodeName = cluster.Members[0].Name,
                InventoryHostname = cluster.Members[0].Host,
                PidFile = Path.Combine(directory.FullName, "haproxy.pid"),
                StatsSocket = Path.Combine(directory.FullName, "haproxy.sock"),
            });
            // This machine's open-file limit cannot hold Pigsty's maxconn 65535.
            main = main.Replace("bind *:", $"bind {address}:", StringComparison.Ordinal).Replace("maxconn     65535", "maxconn     9000", StringComparison.Ordinal);
            var mainFile = Path.Combine(directory.FullName, "haproxy.cfg");
            await File.WriteAllTextAsync(mainFile, main, cancellationToken);
            stack.Start("/usr/sbin/haproxy", ["-db", "-f", mainFile, "-f", confd.FullName], Path.Combine(directory.FullName, "haproxy.out"));

            await stack.WaitForPortAsync(address, 5433, cancellationToken);
            foreach (var m in cluster.Members)
                await stack.WaitForPortAsync(m.Host, PgBouncerPort, cancellationToken);
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    /// <summary>The cluster as Pigsty's inventory would have it, for the HAProxy renderer.</summary>
    private static string Yaml(PatroniCluster cluster) => $$"""
        clusters:
          {{cluster.Name}}:
            members:
              - { name: {{cluster.Members[0].Name}}, host: {{cluster.Members[0].Host}}, role: primary, pooler_port: {{PgBouncerPort}} }
              - { name: {{cluster.Members[1].Name}}, host: {{cluster.Members[1].Host}}, role: replica, pooler_port: {{PgBouncerPort}} }
              - { name: {{cluster.Members[2].Name}}, host: {{cluster.Members[2].Host}}, role: replica, pooler_port: {{PgBouncerPort}} }
            default_service_dest: pgbouncer
            health: { source: patroni, rto: fast }   # the Patroni sandbox runs Pigsty's fast plan
            services: [ pigsty-defaults ]
        """;

    private void Start(string file, string[] arguments, string output)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments)
            start.ArgumentList.Add(a);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        _processes.Add(process);
        var log = File.CreateText(output);
        log.AutoFlush = true;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    private async Task WaitForPortAsync(string host, int port, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + 15 * Stopwatch.Frequency;
        while (true)
        {
            foreach (var p in _processes)
            {
                if (p.HasExited)
                {
                    throw new InvalidOperationException($"{p.StartInfo.FileName} exited with {p.ExitCode}; see the .out and .log files in {_directory.FullName}: " +
                        string.Join(" | ", Directory.GetFiles(_directory.FullName, "*.out").Select(f => File.ReadAllText(f).Trim()).Where(t => t.Length > 0)));
                }
            }
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(host, port, cancellationToken);
                return;
            }
            catch (SocketException) when (Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(50, cancellationToken);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _processes)
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill();
                    await p.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
                }
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
            {
                // Already gone.
            }
            p.Dispose();
        }
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
