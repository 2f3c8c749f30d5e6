namespace PgGate.Sandbox.Patroni;

/// <summary>A single-member etcd for tests: the defaults give <c>http://127.0.0.40:2379</c> with peers on 2380.</summary>
public sealed record EtcdServerOptions
{
    public string Name { get; init; } = "etcd-1";

    public string Host { get; init; } = "127.0.0.40";

    public int ClientPort { get; init; } = 2379;

    public int PeerPort { get; init; } = 2380;

    /// <summary>Serve clients over TLS with this certificate and key (PEM), as Pigsty does.</summary>
    public string? CertFile { get; init; }

    public string? KeyFile { get; init; }

    /// <summary>The CA that signs client certificates. As in Pigsty, giving it makes etcd require a client certificate from
    /// every client (etcd turns <c>--client-cert-auth</c> on whenever a trusted CA is set). With authentication on, etcd's
    /// JSON gateway then refuses certificates that carry a CommonName; clients present one without and log in by password.</summary>
    public string? TrustedCaFile { get; init; }

    /// <summary>Where the data and log go; null means a new <c>/dev/shm/pggate-etcd-*</c> (or under /tmp), deleted on disposal.</summary>
    public string? Directory { get; init; }

    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromMinutes(1);

    internal bool Tls => CertFile is not null;

    internal string ClientUrl => $"{(Tls ? "https" : "http")}://{Host}:{ClientPort}";

    internal string PeerUrl => $"http://{Host}:{PeerPort}";
}
