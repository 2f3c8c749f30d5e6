namespace PgGate.Cluster.Dcs;

/// <summary>etcd refused a request, answered something unreadable, or could not be reached. The message names the endpoint.</summary>
public sealed class EtcdException : Exception
{
    public EtcdException(string message)
        : base(message)
    {
    }

    public EtcdException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>gRPC status code etcd gave (e.g. 16 = unauthenticated), when it gave one.</summary>
    public int? GrpcCode { get; init; }
}
