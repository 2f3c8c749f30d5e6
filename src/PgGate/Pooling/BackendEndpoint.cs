namespace PgGate.Pooling;

/// <summary>
/// A PostgreSQL server the pooler opens connections to: an IP address or host name and port, or a Unix socket
/// directory (a <see cref="Host"/> starting with '/') and port, as in libpq. Equality is by host and port;
/// <see cref="Name"/> (a member name, for SHOW SERVERS) does not take part.
/// </summary>
public sealed class BackendEndpoint : IEquatable<BackendEndpoint>
{
    public BackendEndpoint(string host, int port, string? name = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        Host = host;
        Port = port;
        Name = name;
    }

    public string Host { get; }

    public int Port { get; }

    public string? Name { get; }

    public bool IsUnixSocket => Host.StartsWith('/');

    public bool Equals(BackendEndpoint? other) =>
        other is not null && Port == other.Port && string.Equals(Host, other.Host, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as BackendEndpoint);

    public override int GetHashCode() => HashCode.Combine(StringComparer.Ordinal.GetHashCode(Host), Port);

    public override string ToString() => IsUnixSocket ? $"{Host}/.s.PGSQL.{Port}" : $"{Host}:{Port}";
}
