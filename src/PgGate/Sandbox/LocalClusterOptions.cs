using System.Net;

namespace PgGate.Sandbox;

/// <summary>What local cluster to build. The defaults give Pigsty's <c>pg-test</c> on 127.0.0.11-13:5432.</summary>
public sealed record LocalClusterOptions
{
    public const int MaxUnixSocketPath = 107;

    /// <summary>Cluster name; members are <c>&lt;Name&gt;-1</c>, <c>-2</c>, ...</summary>
    public string Name { get; init; } = "pg-test";

    /// <summary>One address per member, in order: member i listens on <c>Hosts[i]</c>. Loopback (127.0.0.0/8) only.</summary>
    public IReadOnlyList<string> Hosts { get; init; } = ["127.0.0.11", "127.0.0.12", "127.0.0.13"];

    public int Port { get; init; } = 5432;

    /// <summary>Where data directories, logs and sockets go; null means a new <c>/dev/shm/pggate-&lt;name&gt;-&lt;random&gt;</c>
    /// (or under /tmp when /dev/shm is not a roomy tmpfs). A given directory must be absent or empty, because disposing
    /// the cluster deletes it.</summary>
    public string? BaseDirectory { get; init; }

    /// <summary>Zero-based index of the member marked for offline queries (Pigsty's <c>pg_offline_query</c>);
    /// null means the last member.</summary>
    public int? OfflineQueryMember { get; init; }

    /// <summary>The primary names the first replica in <c>synchronous_standby_names</c> (and commits synchronously).</summary>
    public bool SynchronousStandby { get; init; }

    public IReadOnlyList<LocalClusterUser> Users { get; init; } = LocalClusterUser.PigstyDefaults;

    public IReadOnlyList<LocalClusterDatabase> Databases { get; init; } = [LocalClusterDatabase.Test];

    /// <summary>Make the primary by copying a data directory that initdb made once in this process for the same users,
    /// databases and settings, instead of running initdb for every cluster (saves 1-2 s per cluster). The template is
    /// kept in a <c>pggate-template-*</c> directory next to the clusters until the process exits.</summary>
    public bool ReuseInitdbTemplate { get; init; } = true;

    /// <summary>Upper bound for each step (one command, or one wait such as "replica streams").</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromMinutes(2);

    internal int OfflineQueryMemberIndex => OfflineQueryMember ?? Hosts.Count - 1;

    internal LocalClusterUser? ReplicationUser
    {
        get
        {
            foreach (var user in Users)
            {
                if (user.Replication)
                {
                    return user;
                }
            }

            return null;
        }
    }

    /// <summary>Checks the options before anything touches the machine; throws naming the bad option.</summary>
    internal List<IPAddress> Validate()
    {
        static SandboxException Bad(string what) => new($"Invalid LocalClusterOptions: {what}");

        if (string.IsNullOrEmpty(Name) || Name.Length > 40 || !IsPlainName(Name))
        {
            throw Bad($"Name '{Name}' must be 1-40 characters of a-z, 0-9, '-' or '_' (it names members and directories).");
        }

        if (Hosts.Count == 0)
        {
            throw Bad("Hosts is empty; give one loopback address per member, e.g. 127.0.0.11, 127.0.0.12, 127.0.0.13.");
        }

        var addresses = new List<IPAddress>(Hosts.Count);
        foreach (var host in Hosts)
        {
            if (!IPAddress.TryParse(host, out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
                || address.GetAddressBytes()[0] != 127)
            {
                throw Bad($"host '{host}' is not an IPv4 loopback address (127.0.0.0/8), which is all the sandbox's pg_hba.conf admits.");
            }

            if (addresses.Contains(address))
            {
                throw Bad($"host {host} appears twice in Hosts; every member needs its own address (they share Port {Port}).");
            }

            addresses.Add(address);
        }

        if (Port is < 1 or > 65535)
        {
            throw Bad($"Port {Port} is outside 1-65535.");
        }

        if (OfflineQueryMember is int offline && (offline < 0 || offline >= Hosts.Count))
        {
            throw Bad($"OfflineQueryMember {offline} is not a member index (0-{Hosts.Count - 1}).");
        }

        if (SynchronousStandby && Hosts.Count < 2)
        {
            throw Bad("SynchronousStandby needs at least two members.");
        }

        if (Hosts.Count > 1 && ReplicationUser is null)
        {
            throw Bad("a cluster with replicas needs a user with Replication = true in Users (e.g. LocalClusterUser.Replicator).");
        }

        foreach (var user in Users)
        {
            if (string.IsNullOrEmpty(user.Name) || string.IsNullOrEmpty(user.Password))
            {
                throw Bad("every user needs a name and a password (they log in with scram-sha-256).");
            }
        }

        foreach (var database in Databases)
        {
            var ownerKnown = database.Owner == OsUser.PostgresUserName;
            foreach (var user in Users)
            {
                ownerKnown |= user.Name == database.Owner;
            }

            if (!ownerKnown)
            {
                throw Bad($"database {database.Name} is owned by {database.Owner}, which is not in Users.");
            }
        }

        if (StepTimeout <= TimeSpan.Zero)
        {
            throw Bad("StepTimeout must be positive.");
        }

        return addresses;
    }

    private static bool IsPlainName(string name)
    {
        foreach (var c in name)
        {
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}
