using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace PgGate.Sandbox.Patroni;

/// <summary>
/// A member's <c>patroni.yml</c>, shaped as Pigsty's <c>oltp.yml</c> template renders it (namespace, scope, etcd3, restapi
/// with authentication and allowlist, tags, bootstrap.dcs with the RTO plan's timers, <c>failsafe_mode: true</c>,
/// <c>use_slots</c> and <c>use_pg_rewind</c>, the replicator as replication and rewind user), with sandbox-sized
/// PostgreSQL settings. Written as JSON, which is YAML too, so every value is quoted exactly as meant.
/// </summary>
internal static class PatroniConfigFile
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Render(PatroniCluster cluster, PatroniMember member)
    {
        var options = cluster.Options;
        var replicator = options.ReplicationUser;
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("namespace", options.Namespace);
            w.WriteString("scope", options.Name);
            w.WriteString("name", member.Name);

            w.WriteStartObject("log");
            w.WriteString("level", "INFO");
            w.WriteString("format", "%(asctime)s %(levelname)s: %(message)s");
            w.WriteEndObject();

            w.WriteStartObject("etcd3");
            w.WriteString("hosts", $"{options.EtcdHost}:{options.EtcdClientPort}");
            w.WriteString("protocol", "http");
            w.WriteEndObject();

            w.WriteStartObject("restapi");
            w.WriteString("listen", $"{member.Host}:{options.RestPort}");
            w.WriteString("connect_address", $"{member.Host}:{options.RestPort}");
            w.WriteStartObject("authentication");
            w.WriteString("username", options.RestUsername);
            w.WriteString("password", options.RestPassword);
            w.WriteEndObject();

            // Pigsty admits the members and the admin/infra nodes; here 127.0.0.1 stands for the admin node (and is the
            // source address of loopback connections between members).
            w.WriteStartArray("allowlist");
            w.WriteStringValue("127.0.0.1");
            foreach (var m in cluster.Members)
                w.WriteStringValue(m.Host);
            w.WriteEndArray();
            w.WriteEndObject();

            w.WriteStartObject("ctl");
            w.WriteBoolean("insecure", true);
            w.WriteEndObject();

            w.WriteStartObject("tags");
            foreach (var (name, value) in member.Tags)
                WriteValue(w, name, value);
            w.WriteEndObject();

            w.WriteStartObject("watchdog");
            w.WriteString("mode", "off");
            w.WriteEndObject();

            WriteBootstrap(w, cluster);
            WritePostgresql(w, cluster, member, replicator);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>Tags as Pigsty sets them (<c>oltp.yml</c>), before any test changes them.</summary>
    public static Dictionary<string, object?> DefaultTags(PatroniCluster cluster)
    {
        var cores = Environment.ProcessorCount;
        var memoryGiB = Math.Max(1, (long)Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (double)(1L << 30)));
        return new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["nofailover"] = false,
            ["clonefrom"] = true,
            ["noloadbalance"] = false,
            ["nosync"] = false,
            ["version"] = (cluster.Tools.Postgres.MajorVersion ?? 0).ToString(CultureInfo.InvariantCulture),
            ["spec"] = string.Create(CultureInfo.InvariantCulture, $"{cores}C.{memoryGiB}G.1G"),
            ["conf"] = cluster.Options.SynchronousMode ? "crit.yml" : "oltp.yml",
        };
    }

    private static void WriteBootstrap(Utf8JsonWriter w, PatroniCluster cluster)
    {
        var options = cluster.Options;
        var timers = options.Timers;
        w.WriteStartObject("bootstrap");
        w.WriteString("method", "initdb");
        w.WriteStartArray("initdb");
        WriteSingle(w, "encoding", "UTF8");
        WriteSingle(w, "locale", "C");
        w.WriteEndArray();

        w.WriteStartObject("dcs");
        w.WriteNumber("ttl", timers.Ttl);
        w.WriteNumber("loop_wait", timers.LoopWait);
        w.WriteNumber("retry_timeout", timers.RetryTimeout);
        w.WriteNumber("primary_start_timeout", timers.PrimaryStartTimeout);
        w.WriteNumber("maximum_lag_on_failover", options.MaximumLagOnFailover);
        w.WriteNumber("maximum_lag_on_syncnode", -1);
        w.WriteNumber("primary_stop_timeout", 30);
        w.WriteBoolean("synchronous_mode", options.SynchronousMode);
        w.WriteBoolean("synchronous_mode_strict", false);
        w.WriteBoolean("failsafe_mode", true);
        w.WriteStartObject("postgresql");
        w.WriteBoolean("use_slots", true);
        w.WriteBoolean("use_pg_rewind", true);
        w.WriteBoolean("remove_data_directory_on_rewind_failure", true);
        w.WriteStartObject("parameters");
        foreach (var (name, value) in ClusterParameters)
            WriteValue(w, name, value);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>Pigsty's replication and WAL settings, with memory, durability and logging sized for a test machine.</summary>
    private static readonly (string Name, object Value)[] ClusterParameters =
    [
        ("max_connections", 200),
        ("superuser_reserved_connections", 10),
        ("wal_level", "logical"),
        ("wal_log_hints", "on"),
        ("max_wal_senders", 20),
        ("max_replication_slots", 20),
        ("hot_standby", "on"),
        ("hot_standby_feedback", "on"),
        ("wal_receiver_status_interval", "1s"),
        ("track_commit_timestamp", "on"),
        ("password_encryption", "scram-sha-256"),
        ("wal_writer_delay", "20ms"),

        // A replica whose primary went away retries every 5 s by default; failovers here should converge faster.
        ("wal_retrieve_retry_interval", "500ms"),

        // Sandbox sizing: data is thrown away, so no fsync (the OS does not crash in these tests, processes do).
        ("fsync", "off"),
        ("full_page_writes", "on"),
        ("shared_buffers", "32MB"),
        ("jit", "off"),

        // Tests SIGKILL postmasters; POSIX segments would then leak in /dev/shm, mmap ones go with the data directory.
        ("dynamic_shared_memory_type", "mmap"),
        ("logging_collector", "on"),
        ("log_directory", "log"),
        ("log_filename", "postgresql.log"),
        ("log_rotation_age", "0"),
        ("log_rotation_size", "0"),
        ("log_line_prefix", "%m [%p] %q%u@%d "),
    ];

    private static void WritePostgresql(Utf8JsonWriter w, PatroniCluster cluster, PatroniMember member, LocalClusterUser replicator)
    {
        var options = cluster.Options;
        w.WriteStartObject("postgresql");
        w.WriteString("bin_dir", cluster.Tools.Postgres.BinDirectory);
        w.WriteString("data_dir", member.DataDirectory);
        w.WriteString("pgpass", Path.Combine(member.MemberDirectory, "pgpass"));
        w.WriteString("listen", $"{member.Host}:{options.PostgresPort}");
        w.WriteString("connect_address", $"{member.Host}:{options.PostgresPort}");
        w.WriteBoolean("use_unix_socket", true);
        w.WriteStartObject("parameters");
        w.WriteString("unix_socket_directories", member.SocketDirectory);
        w.WriteEndObject();

        w.WriteStartObject("authentication");
        w.WriteStartObject("superuser");
        w.WriteString("username", OsUser.PostgresUserName);
        w.WriteEndObject();
        foreach (var role in (string[])["replication", "rewind"])
        {
            w.WriteStartObject(role);
            w.WriteString("username", replicator.Name);
            w.WriteString("password", replicator.Password);
            w.WriteEndObject();
        }
        w.WriteEndObject();

        w.WriteBoolean("use_pg_rewind", true);
        w.WriteBoolean("remove_data_directory_on_rewind_failure", true);
        w.WriteBoolean("remove_data_directory_on_diverged_timelines", false);
        w.WriteStartArray("create_replica_methods");
        w.WriteStringValue("basebackup");
        w.WriteEndArray();
        w.WriteStartArray("basebackup");
        WriteSingle(w, "checkpoint", "fast");
        w.WriteEndArray();

        w.WriteStartArray("pg_hba");
        w.WriteStringValue("local   all          all                  trust");
        w.WriteStringValue("local   replication  all                  trust");
        w.WriteStringValue("host    all          all       127.0.0.0/8  scram-sha-256");
        w.WriteStringValue($"host    replication  {replicator.Name}  127.0.0.0/8  scram-sha-256");
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteSingle(Utf8JsonWriter w, string name, string value)
    {
        w.WriteStartObject();
        w.WriteString(name, value);
        w.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter w, string name, object? value)
    {
        switch (value)
        {
            case null:
                w.WriteNull(name);
                break;
            case bool b:
                w.WriteBoolean(name, b);
                break;
            case int i:
                w.WriteNumber(name, i);
                break;
            case long l:
                w.WriteNumber(name, l);
                break;
            default:
                w.WriteString(name, Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}
