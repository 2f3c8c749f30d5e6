using System.Data.Common;
using System.Globalization;
using System.Net;

namespace PgGate.Sandbox.Patroni;

/// <summary>
/// One node of a <see cref="PatroniCluster"/>: a Patroni process and the PostgreSQL it runs, on their own loopback
/// address. Everything lives under <c>&lt;base&gt;/&lt;name&gt;/</c>: <c>patroni.yml</c>, <c>patroni.log</c> (Patroni's
/// output), <c>data/</c> (PGDATA, with PostgreSQL's log in <c>data/log/postgresql.log</c>) and the unix socket.
/// </summary>
public sealed class PatroniMember
{
    private readonly PatroniCluster _cluster;

    internal PatroniMember(PatroniCluster cluster, int index, IPAddress address, string memberDirectory)
    {
        _cluster = cluster;
        Index = index;
        Address = address;
        Name = $"{cluster.Name}-{index + 1}";
        Host = address.ToString();
        Port = cluster.Options.PostgresPort;
        RestPort = cluster.Options.RestPort;
        RestUrl = new Uri($"http://{Host}:{RestPort}");
        MemberDirectory = memberDirectory;
        DataDirectory = Path.Combine(memberDirectory, "data");
        ConfigFile = Path.Combine(memberDirectory, "patroni.yml");
        PatroniLogFile = Path.Combine(memberDirectory, "patroni.log");
        PostgresLogFile = Path.Combine(DataDirectory, "log", "postgresql.log");
    }

    /// <summary><c>&lt;cluster&gt;-&lt;n&gt;</c>: Patroni's member name, the leader key's value when it leads.</summary>
    public string Name { get; }

    public int Index { get; }

    public string Host { get; }

    /// <summary>PostgreSQL's port.</summary>
    public int Port { get; }

    public int RestPort { get; }

    /// <summary><c>http://&lt;host&gt;:8008</c>.</summary>
    public Uri RestUrl { get; }

    public string MemberDirectory { get; }

    public string DataDirectory { get; }

    /// <summary>PostgreSQL's unix socket directory (local connections as <c>postgres</c> are trusted).</summary>
    public string SocketDirectory => MemberDirectory;

    public string ConfigFile { get; }

    /// <summary>Patroni's stdout and stderr (its log), appended across restarts.</summary>
    public string PatroniLogFile { get; }

    public string PostgresLogFile { get; }

    /// <summary>Patroni tags as configured now (Pigsty's, plus whatever a test set with <see cref="PatroniCluster.SetTagsAsync"/>).</summary>
    public IReadOnlyDictionary<string, object?> Tags => TagsInternal;

    /// <summary>Patroni's PID while it runs; null when it is stopped or killed.</summary>
    public int? PatroniPid => Process is { HasExited: false } p ? p.Pid : null;

    public bool IsPatroniRunning => PatroniPid is not null;

    /// <summary>The postmaster's PID from <c>postmaster.pid</c> while it runs; null otherwise.</summary>
    public int? PostmasterPid
    {
        get
        {
            var file = PostmasterPidFile.Read(DataDirectory);
            return file is not null && ProcFs.IsAlive(file.Pid) && ProcFs.WorkingDirectory(file.Pid) == DataDirectory ? file.Pid : null;
        }
    }

    public bool IsPostgresRunning => PostmasterPid is not null;

    internal IPAddress Address { get; }

    internal Dictionary<string, object?> TagsInternal { get; set; } = new(StringComparer.Ordinal);

    internal DaemonProcess? Process { get; set; }

    internal SemaphoreSlim Lifecycle { get; } = new(1, 1);

    /// <summary>A TCP connection string with Npgsql's keywords (Host, Port, Database, Username, Password).</summary>
    public string ConnectionString(string user, string password, string database)
    {
        var builder = new DbConnectionStringBuilder
        {
            ["Host"] = Host,
            ["Port"] = Port.ToString(CultureInfo.InvariantCulture),
            ["Database"] = database,
            ["Username"] = user,
            ["Password"] = password,
        };
        return builder.ConnectionString;
    }

    public string ConnectionString(LocalClusterUser user, string database) => ConnectionString(user.Name, user.Password, database);

    /// <summary>Runs SQL through psql as <c>postgres</c> over the unix socket; returns the rows unaligned, one per line.</summary>
    public Task<string> RunSqlAsync(string sql, string database = "postgres", CancellationToken cancellationToken = default) =>
        Psql.RunAsync(_cluster.Tools.Postgres, _cluster.OsUser, _cluster.Logger, SocketDirectory, Port, database, sql,
            $"run SQL on {Name} ({OneLine(sql)})", PostgresLogFile, _cluster.Options.StepTimeout, cancellationToken);

    public override string ToString() => $"{Name} ({Host}:{Port}, REST :{RestPort})";

    private static string OneLine(string sql)
    {
        var text = sql.ReplaceLineEndings(" ").Trim();
        return text.Length <= 60 ? text : text[..57] + "...";
    }
}
