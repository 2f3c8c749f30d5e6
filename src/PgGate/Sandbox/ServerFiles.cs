using System.Globalization;
using System.Text;

namespace PgGate.Sandbox;

/// <summary>
/// The configuration files the sandbox writes into data directories. Settings shared by all members go into
/// postgresql.conf (replicas inherit them through pg_basebackup); what differs per member (address, socket
/// directory, name) lives in <c>pggate-member.conf</c>, rewritten after every clone or rewind because both copy
/// the source's files.
/// </summary>
internal static class ServerFiles
{
    public const string MemberSettingsFile = "pggate-member.conf";
    private const string AutoConfFile = "postgresql.auto.conf";

    public static void AppendClusterSettings(string dataDirectory, LocalClusterOptions options)
    {
        var settings = new StringBuilder();
        settings.AppendLine();
        settings.AppendLine("# ---- PgGate sandbox: tuned for tests (fast, not crash-safe) ----");
        settings.AppendLine("fsync = off");
        settings.AppendLine(options.SynchronousStandby ? "synchronous_commit = on" : "synchronous_commit = off");

        // pg_rewind refuses a source server without full page writes, so they stay on despite the cost.
        settings.AppendLine("full_page_writes = on");
        settings.AppendLine("wal_log_hints = on");
        settings.AppendLine("wal_level = replica");
        settings.AppendLine("hot_standby = on");
        settings.AppendLine("max_wal_senders = 10");
        settings.AppendLine("max_replication_slots = 10");
        settings.AppendLine("wal_keep_size = '256MB'");
        settings.AppendLine("wal_receiver_status_interval = '1s'");

        // With synchronous_commit off a commit reaches the replicas only when the WAL writer flushes it (200 ms by
        // default); tests that write and then read a replica should not wait that long.
        settings.AppendLine("wal_writer_delay = '10ms'");

        // A replica whose primary went away retries every 5 s by default; tests re-point replicas often.
        settings.AppendLine("wal_retrieve_retry_interval = '500ms'");
        settings.AppendLine("max_connections = 200");
        settings.AppendLine("shared_buffers = '32MB'");
        settings.AppendLine("password_encryption = 'scram-sha-256'");
        settings.AppendLine("jit = off");

        // Tests kill members with SIGKILL; POSIX segments would then leak in /dev/shm. mmap segments live in the
        // data directory and go with it.
        settings.AppendLine("dynamic_shared_memory_type = mmap");
        settings.AppendLine("logging_collector = off");
        settings.AppendLine("log_line_prefix = '%m [%p] %q%u@%d '");
        settings.AppendLine(CultureInfo.InvariantCulture, $"include {Quoting.ConfString(MemberSettingsFile)}");
        var path = Path.Combine(dataDirectory, "postgresql.conf");
        File.AppendAllText(path, settings.ToString());
    }

    public static void WriteHba(string dataDirectory, LocalClusterOptions options, OsUser osUser)
    {
        var hba = new StringBuilder();
        hba.AppendLine("# PgGate sandbox: trust on the unix socket, SCRAM over loopback TCP.");
        hba.AppendLine("# TYPE  DATABASE     USER  ADDRESS      METHOD");
        hba.AppendLine("local   all          all                trust");
        hba.AppendLine("local   replication  all                trust");
        hba.AppendLine("host    all          all   127.0.0.0/8  scram-sha-256");
        foreach (var user in options.Users)
        {
            if (user.Replication)
            {
                hba.AppendLine(CultureInfo.InvariantCulture, $"host    replication  {Quoting.SqlIdentifier(user.Name)}  127.0.0.0/8  scram-sha-256");
            }
        }

        Write(Path.Combine(dataDirectory, "pg_hba.conf"), hba.ToString(), osUser);
    }

    public static void WriteMemberSettings(LocalMember member, string? synchronousStandby, OsUser osUser) =>
        WriteMemberSettings(member.DataDirectory, member.Name, member.Host, member.Port, member.SocketDirectory, synchronousStandby, osUser);

    public static void WriteMemberSettings(
        string dataDirectory,
        string name,
        string listenAddresses,
        int port,
        string socketDirectory,
        string? synchronousStandby,
        OsUser osUser)
    {
        var settings = new StringBuilder();
        settings.AppendLine("# PgGate sandbox: what differs per member. Rewritten by the sandbox; do not edit.");
        settings.AppendLine(CultureInfo.InvariantCulture, $"cluster_name = {Quoting.ConfString(name)}");
        settings.AppendLine(CultureInfo.InvariantCulture, $"listen_addresses = {Quoting.ConfString(listenAddresses)}");
        settings.AppendLine(CultureInfo.InvariantCulture, $"port = {port}");
        settings.AppendLine(CultureInfo.InvariantCulture, $"unix_socket_directories = {Quoting.ConfString(socketDirectory)}");
        if (synchronousStandby is not null)
        {
            // Standby names follow identifier rules, so names with '-' need double quotes.
            settings.AppendLine(CultureInfo.InvariantCulture, $"synchronous_standby_names = {Quoting.ConfString(Quoting.SqlIdentifier(synchronousStandby))}");
        }

        Write(Path.Combine(dataDirectory, MemberSettingsFile), settings.ToString(), osUser);
    }

    /// <summary>Makes a stopped data directory start as a streaming replica of <paramref name="primary"/>.</summary>
    public static void WriteStandbySettings(LocalMember member, LocalMember primary, LocalClusterUser replicationUser, string passFile, OsUser osUser)
    {
        var conninfo = Quoting.Conninfo(
            ("host", primary.Host),
            ("port", primary.Port.ToString(CultureInfo.InvariantCulture)),
            ("user", replicationUser.Name),
            ("passfile", passFile),
            ("application_name", member.Name));

        // pg_basebackup -R and pg_rewind leave a primary_conninfo for whatever the source was; replace it.
        var autoConf = Path.Combine(member.DataDirectory, AutoConfFile);
        var kept = new StringBuilder();
        if (File.Exists(autoConf))
        {
            foreach (var line in File.ReadAllLines(autoConf))
            {
                var trimmed = line.TrimStart();
                if (!trimmed.StartsWith("primary_conninfo", StringComparison.Ordinal)
                    && !trimmed.StartsWith("primary_slot_name", StringComparison.Ordinal))
                {
                    kept.AppendLine(line);
                }
            }
        }

        kept.AppendLine(CultureInfo.InvariantCulture, $"primary_conninfo = {Quoting.ConfString(conninfo)}");
        Write(autoConf, kept.ToString(), osUser);
        Write(Path.Combine(member.DataDirectory, "standby.signal"), "", osUser);
    }

    public static void WritePassFile(string path, LocalClusterUser user, OsUser osUser) =>
        Write(path, $"*:*:*:{Quoting.PassFileField(user.Name)}:{Quoting.PassFileField(user.Password)}\n", osUser);

    private static void Write(string path, string content, OsUser osUser)
    {
        File.WriteAllText(path, content);
        FileModes.RestrictFile(path);
        osUser.TakeOwnership(path);
    }
}
