using PgGate.Config;

namespace PgGate.Cluster;

/// <summary>
/// A distinct health check of a cluster: the check path with its rise/fall counts. Services that share
/// path and counts share one check per member (as HAProxy servers with the same check would agree).
/// </summary>
public sealed record CheckSpec(CheckPath Path, int Rise, int Fall)
{
    public string Key => $"{Path.Raw} rise {Rise} fall {Fall}";

    public static CheckSpec For(ServiceConfig service) => new(CheckPath.Parse(service.Check), service.Options.Rise, service.Options.Fall);
}
