using PgGate.Config;

namespace PgGate.Cluster.Dcs;

/// <summary>Which leader key an <see cref="EtcdLeaderWatch"/> follows, on which etcd endpoints, and how it connects.</summary>
public sealed record EtcdLeaderWatchOptions
{
    /// <summary>etcd client URLs tried in order, e.g. <c>https://10.10.10.10:2379</c>. Without a scheme, <c>https</c> when a
    /// <see cref="CaFile"/> is given, <c>http</c> otherwise.</summary>
    public required IReadOnlyList<string> Endpoints { get; init; }

    /// <summary>Patroni's <c>namespace</c>; Pigsty uses <c>/pg/</c>.</summary>
    public string Namespace { get; init; } = "/pg/";

    /// <summary>Patroni's <c>scope</c>: the cluster name (<c>pg_cluster</c>).</summary>
    public required string Scope { get; init; }

    /// <summary>etcd user when etcd has authentication on (Pigsty: the cluster name).</summary>
    public string? Username { get; init; }

    /// <summary>Read at every (re)connect, so a rotated file or variable takes effect.</summary>
    public SecretSource Password { get; init; } = SecretSource.None;

    /// <summary>CA that signed etcd's certificate (Pigsty: <c>/pg/cert/ca.crt</c>).</summary>
    public string? CaFile { get; init; }

    /// <summary>Client certificate and key in PEM (Pigsty: <c>/pg/cert/server.crt</c>, <c>/pg/cert/server.key</c>).</summary>
    public string? CertFile { get; init; }

    public string? KeyFile { get; init; }

    /// <summary>Bound on each connect and each non-streaming request (version, authenticate, range).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Pause after every endpoint failed once; doubled per failed round up to <see cref="MaxBackoff"/>. The
    /// first retry after a stream breaks goes to the next endpoint at once.</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>TCP keepalive idle time on the watch connection, so a silently dead peer (cable pulled, host frozen) ends
    /// the stream after about this plus 3 probes one second apart.</summary>
    public TimeSpan KeepAliveTime { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The key watched: <c>/&lt;namespace&gt;/&lt;scope&gt;/leader</c>.</summary>
    public string LeaderKey => DcsKeys.Leader(Namespace, Scope);

    /// <summary>The watch for a cluster with <c>health.dcs</c> configured (endpoints, namespace, credentials, TLS files).</summary>
    public static EtcdLeaderWatchOptions FromConfig(ClusterConfig cluster)
    {
        var dcs = cluster.Health.Dcs;
        return new EtcdLeaderWatchOptions
        {
            Endpoints = dcs.Endpoints,
            Namespace = dcs.Namespace,
            Scope = cluster.Name,
            Username = dcs.Username,
            Password = dcs.Password,
            CaFile = dcs.CaFile,
            CertFile = dcs.CertFile,
            KeyFile = dcs.KeyFile,
        };
    }

    /// <summary>Throws naming the bad option.</summary>
    internal void Validate()
    {
        static ArgumentException Bad(string what) => new("Invalid etcd leader watch options: " + what);

        if (Endpoints.Count == 0)
            throw Bad("no etcd endpoints; give at least one, e.g. http://10.10.10.10:2379.");
        foreach (var endpoint in Endpoints)
            _ = EtcdEndpoints.Parse(endpoint, CaFile is not null);
        if (string.IsNullOrEmpty(Scope))
            throw Bad("Scope (the cluster name) is empty.");
        if ((CertFile is null) != (KeyFile is null))
            throw Bad("CertFile and KeyFile go together: give both (a client certificate and its key) or neither.");
        if (Username is null && Password.IsSet)
            throw Bad("a password is set but no Username.");
        if (RequestTimeout <= TimeSpan.Zero || MinBackoff <= TimeSpan.Zero || MaxBackoff < MinBackoff)
            throw Bad("RequestTimeout and MinBackoff must be positive and MaxBackoff at least MinBackoff.");
    }
}
