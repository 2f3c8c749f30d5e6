namespace PgGate.Sandbox.Patroni;

/// <summary>A single-member etcd for tests: the defaults give <c>http://127.0.0.40:2379</c> with peers on 2380.</summary>
public sealed record EtcdServerOptions
{
    public string Name { get; init; } = "etcd-1";

    public string Host { get; init; } = "127.0.0.40";

    public int ClientPort { get; init; } = 2379;

    public int PeerPort { get; init; } = 2380;

    /// <summary>Serve clients over TLS with this certificate and key (PEM); clients must then present a certificate signed by
    /// <see cref="TrustedCaFile"/>, as in Pigsty (<c>--client-cert-auth</c>).</summary>
    public string? CertFile { get; init; }

    public string? KeyFile { get; init; }

    public string? TrustedCaFile { get; init; }

    /// <summary>Where the data and log go; null means a new <c>/dev/shm/pggate-etcd-*</c> (or under /tmp), deleted on disposal.</summary>
    public string? Directory { get; init; }

    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromMinutes(1);

    internal bool Tls => CertFile is not null;

    internal string ClientUrl => $"{(Tls ? "https" : "http")}://{Host}:{ClientPort}";

    internal string PeerUrl => $"http://{Host}:{PeerPort}";
}
