namespace PgGate.Config;

public enum BalanceAlgorithm
{
    RoundRobin,
    LeastConn,
    Random,
}

public enum DestinationKind
{
    /// <summary>The member's PostgreSQL port (5432); bytes are relayed.</summary>
    Postgres,

    /// <summary>The member's pooler port (6432, PgBouncer in Pigsty); bytes are relayed.</summary>
    Pgbouncer,

    /// <summary>A fixed port number on the member; bytes are relayed.</summary>
    Port,

    /// <summary>PgGate's own pooler pools straight to the member's PostgreSQL (one hop).</summary>
    Pool,
}

/// <summary>Where a service's sessions go on the member it picked.</summary>
public readonly record struct ServiceDestination(DestinationKind Kind, int FixedPort = 0)
{
    public static ServiceDestination Postgres => new(DestinationKind.Postgres);
    public static ServiceDestination Pgbouncer => new(DestinationKind.Pgbouncer);
    public static ServiceDestination Pool => new(DestinationKind.Pool);

    public int PortOn(MemberConfig member) => Kind switch
    {
        DestinationKind.Pgbouncer => member.PoolerPort,
        DestinationKind.Port => FixedPort,
        _ => member.PgPort,
    };

    public override string ToString() => Kind switch
    {
        DestinationKind.Port => FixedPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => Kind.ToString().ToLowerInvariant(),
    };
}

/// <summary>
/// One service of a cluster: a port on every node that routes each new client to a member chosen by
/// live health. Field meanings follow Pigsty's <c>pg_default_services</c> items exactly.
/// </summary>
public sealed record ServiceConfig
{
    public required string Name { get; init; }

    /// <summary>Bind address; <c>*</c> binds every address.</summary>
    public string Ip { get; init; } = "*";

    public required int Port { get; init; }

    /// <summary>JMESPath over the list of member documents; picks the normal servers.</summary>
    public string Selector { get; init; } = "[]";

    /// <summary>JMESPath over the same list; matches are backups (appended when the selector did not pick them).</summary>
    public string? Backup { get; init; }

    public ServiceDestination Dest { get; init; } = ServiceDestination.Postgres;

    /// <summary>Patroni health-check path, e.g. <c>/primary</c>, <c>/read-only</c>, <c>/replica?lag=1MB</c>. <c>/</c> means <c>/primary</c>.</summary>
    public string Check { get; init; } = "/";

    /// <summary>Frontend limit: concurrent client sessions of this service on this node.</summary>
    public int MaxConn { get; init; } = 5000;

    public BalanceAlgorithm Balance { get; init; } = BalanceAlgorithm.RoundRobin;

    /// <summary>With <c>allbackups</c>, every up backup serves when no normal server is up; otherwise only the first.</summary>
    public bool AllBackups { get; init; }

    public ServerOptions Options { get; init; } = ServerOptions.Norm;

    /// <summary>
    /// The <c>default-server</c> string <see cref="Options"/> came from, exactly as written (or as Pigsty derives it from the
    /// RTO plan), so the HAProxy rendering is byte-identical to Pigsty's.
    /// </summary>
    public string OptionsText { get; init; } = RtoPlan.PigstyDefaults[RtoPlan.DefaultName].OptionsText;

    /// <summary>HAProxy <c>timeout connect</c>: per attempt to open a server connection.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>HAProxy <c>timeout queue</c>: how long a client may wait for a free server slot.</summary>
    public TimeSpan QueueTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>HAProxy <c>retries</c>: further connection attempts, each on another server when one is up.</summary>
    public int Retries { get; init; } = 3;

    public SourceLocation Location { get; init; } = SourceLocation.None;
}
