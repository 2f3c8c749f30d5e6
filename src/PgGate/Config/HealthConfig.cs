namespace PgGate.Config;

public enum HealthSource
{
    /// <summary>HTTP <c>OPTIONS</c> to each member's Patroni REST API, exactly as Pigsty's HAProxy checks.</summary>
    Patroni,

    /// <summary>PgGate's own SQL probe with a monitor user; works without Patroni.</summary>
    Sql,

    /// <summary>A watch on Patroni's leader key in etcd, with checks as a second opinion.</summary>
    Dcs,
}

/// <summary>A secret given inline, through an environment variable, or in a file; never required in plain text.</summary>
public sealed record SecretSource
{
    public string? Value { get; init; }
    public string? Env { get; init; }
    public string? File { get; init; }

    public static SecretSource None { get; } = new();

    public bool IsSet => Value is not null || Env is not null || File is not null;

    /// <summary>The secret, read at the moment of use so rotated files and variables take effect.</summary>
    public string? Resolve()
    {
        if (Value is not null)
            return Value;
        if (Env is not null)
            return Environment.GetEnvironmentVariable(Env);
        if (File is not null)
            return System.IO.File.ReadAllText(File).TrimEnd('\r', '\n');
        return null;
    }
}

/// <summary>Credentials of the monitor user for the <c>sql</c> source.</summary>
public sealed record SqlCheckConfig
{
    public string User { get; init; } = "dbuser_monitor";
    public SecretSource Password { get; init; } = SecretSource.None;
    public string Database { get; init; } = "postgres";
}

public sealed record PatroniCheckConfig
{
    /// <summary>Use HTTPS for checks (Pigsty's <c>patroni_ssl_enabled</c>).</summary>
    public bool Ssl { get; init; }

    /// <summary>CA file to verify Patroni's certificate (Pigsty: <c>/pg/cert/ca.crt</c>).</summary>
    public string? CaFile { get; init; }

    /// <summary>REST API credentials for the write endpoints (switchover).</summary>
    public string? Username { get; init; }
    public SecretSource Password { get; init; } = SecretSource.None;
}

public sealed record DcsConfig
{
    /// <summary>etcd v3 endpoints, e.g. <c>http://10.10.10.10:2379</c>.</summary>
    public IReadOnlyList<string> Endpoints { get; init; } = [];

    /// <summary>Patroni namespace; Pigsty uses <c>/pg/</c>.</summary>
    public string Namespace { get; init; } = "/pg/";

    public string? Username { get; init; }
    public SecretSource Password { get; init; } = SecretSource.None;

    /// <summary>CA that signed etcd's certificate; when set, endpoints are reached over TLS (Pigsty: <c>/pg/cert/ca.crt</c>).</summary>
    public string? CaFile { get; init; }

    /// <summary>Client certificate and key for etcd (Pigsty: <c>/pg/cert/server.crt</c>, <c>/pg/cert/server.key</c>).</summary>
    public string? CertFile { get; init; }
    public string? KeyFile { get; init; }
}

public sealed record HealthConfig
{
    public HealthSource Source { get; init; } = HealthSource.Patroni;

    /// <summary>Pigsty RTO plan name (fast, norm, safe, wide) the default server options come from.</summary>
    public string Rto { get; init; } = "norm";

    /// <summary>Cap on one check's duration (HAProxy's <c>timeout check</c>, 3s in Pigsty).</summary>
    public TimeSpan CheckTimeout { get; init; } = TimeSpan.FromSeconds(3);

    public SqlCheckConfig Sql { get; init; } = new();

    public PatroniCheckConfig Patroni { get; init; } = new();

    public DcsConfig Dcs { get; init; } = new();
}
