using System.Net;

namespace PgGate.Sandbox.Patroni;

/// <summary>
/// What Patroni cluster to build. The defaults give Pigsty's <c>pg-test</c> under Patroni: etcd on 127.0.0.40:2379
/// (peer 2380), members <c>pg-test-1..3</c> on 127.0.0.41-43 with PostgreSQL on :5432 and Patroni's REST API on :8008,
/// namespace <c>/pg/</c>, Pigsty's users, and Pigsty's <c>fast</c> timers.
/// </summary>
public sealed record PatroniClusterOptions
{
    /// <summary>Patroni's scope; members are <c>&lt;Name&gt;-1</c>, <c>-2</c>, ...</summary>
    public string Name { get; init; } = "pg-test";

    /// <summary>One loopback address per member, in order.</summary>
    public IReadOnlyList<string> Hosts { get; init; } = ["127.0.0.41", "127.0.0.42", "127.0.0.43"];

    public string EtcdHost { get; init; } = "127.0.0.40";

    public int EtcdClientPort { get; init; } = 2379;

    public int EtcdPeerPort { get; init; } = 2380;

    public int PostgresPort { get; init; } = 5432;

    public int RestPort { get; init; } = 8008;

    /// <summary>Patroni's namespace; Pigsty's is <c>/pg/</c>, so the leader key is <c>/pg/&lt;Name&gt;/leader</c>.</summary>
    public string Namespace { get; init; } = "/pg/";

    public PatroniTimers Timers { get; init; } = PatroniTimers.Fast;

    /// <summary>Patroni's <c>synchronous_mode</c> (Pigsty turns it on when <c>pg_rpo</c> is 0 and in <c>crit.yml</c>).</summary>
    public bool SynchronousMode { get; init; }

    /// <summary>Pigsty's <c>pg_rpo</c>: a replica further behind than this many bytes is not promoted.</summary>
    public long MaximumLagOnFailover { get; init; } = 1048576;

    /// <summary>Credentials of Patroni's write endpoints (Pigsty's <c>patroni_username</c> / <c>patroni_password</c>).</summary>
    public string RestUsername { get; init; } = "postgres";

    public string RestPassword { get; init; } = "Patroni.API";

    /// <summary>Created on the first leader after bootstrap (the replication user by Patroni itself).</summary>
    public IReadOnlyList<LocalClusterUser> Users { get; init; } = LocalClusterUser.PigstyDefaults;

    public IReadOnlyList<LocalClusterDatabase> Databases { get; init; } = [LocalClusterDatabase.Test];

    /// <summary>Where etcd's and the members' directories go; null means a new <c>/dev/shm/pggate-patroni-&lt;name&gt;-*</c>
    /// (or under /tmp). A given directory must be absent or empty: disposing the cluster deletes it.</summary>
    public string? BaseDirectory { get; init; }

    /// <summary>Upper bound for each wait (leader elected, replica streaming, a process exiting).</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromMinutes(2);

    internal LocalClusterUser ReplicationUser
    {
        get
        {
            foreach (var user in Users)
            {
                if (user.Replication)
                    return user;
            }
            throw new SandboxException("Invalid PatroniClusterOptions: Users has no user with Replication = true (e.g. LocalClusterUser.Replicator).");
        }
    }

    /// <summary>Checks the options before anything touches the machine; throws naming the bad option.</summary>
    internal (IPAddress Etcd, List<IPAddress> Members) Validate()
    {
        static SandboxException Bad(string what) => new($"Invalid PatroniClusterOptions: {what}");

        if (string.IsNullOrEmpty(Name) || Name.Length > 40 || !IsPlainName(Name))
            throw Bad($"Name '{Name}' must be 1-40 characters of a-z, 0-9, '-' or '_' (it names members, directories and the DCS scope).");
        if (Hosts.Count < 2)
            throw Bad("Hosts needs at least two loopback addresses (a leader and a replica), e.g. 127.0.0.41, 127.0.0.42, 127.0.0.43.");
        var etcd = Loopback(EtcdHost, nameof(EtcdHost));
        var members = new List<IPAddress>(Hosts.Count);
        foreach (var host in Hosts)
        {
            var address = Loopback(host, nameof(Hosts));
            if (members.Contains(address))
                throw Bad($"host {host} appears twice in Hosts; every member needs its own address.");
            members.Add(address);
        }

        foreach (var (port, name) in (ReadOnlySpan<(int, string)>)[(EtcdClientPort, nameof(EtcdClientPort)), (EtcdPeerPort, nameof(EtcdPeerPort)),
                     (PostgresPort, nameof(PostgresPort)), (RestPort, nameof(RestPort))])
        {
            if (port is < 1 or > 65535)
                throw Bad($"{name} {port} is outside 1-65535.");
        }
        if (EtcdClientPort == EtcdPeerPort)
            throw Bad("EtcdClientPort and EtcdPeerPort must differ.");
        if (PostgresPort == RestPort && members.Count > 0)
            throw Bad("PostgresPort and RestPort must differ (they share each member's address).");
        Timers.Validate();
        _ = ReplicationUser;
        foreach (var database in Databases)
        {
            var known = database.Owner == OsUser.PostgresUserName;
            foreach (var user in Users)
                known |= user.Name == database.Owner;
            if (!known)
                throw Bad($"database {database.Name} is owned by {database.Owner}, which is not in Users.");
        }
        if (StepTimeout <= TimeSpan.Zero)
            throw Bad("StepTimeout must be positive.");
        return (etcd, members);

        static IPAddress Loopback(string host, string option)
        {
            if (!IPAddress.TryParse(host, out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
                || address.GetAddressBytes()[0] != 127)
            {
                throw Bad($"{option}: '{host}' is not an IPv4 loopback address (127.0.0.0/8), which is all the sandbox's pg_hba.conf admits.");
            }
            return address;
        }
    }

    private static bool IsPlainName(string name)
    {
        foreach (var c in name)
        {
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_'))
                return false;
        }
        return true;
    }
}
