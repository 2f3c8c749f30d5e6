namespace PgGate.Cluster.Dcs;

internal static class EtcdEndpoints
{
    /// <summary><c>http(s)://host:port</c> from an endpoint as Pigsty and Patroni write them (scheme and port optional).</summary>
    public static Uri Parse(string endpoint, bool tls)
    {
        var text = endpoint.Trim();
        if (!text.Contains("://", StringComparison.Ordinal))
            text = (tls ? "https://" : "http://") + text;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.AbsolutePath is not ("/" or ""))
        {
            throw new ArgumentException(
                $"Invalid etcd endpoint '{endpoint}': expected http://host:port or https://host:port (e.g. https://10.10.10.10:2379).");
        }
        var port = uri.IsDefaultPort && !endpoint.Contains(":" + uri.Port, StringComparison.Ordinal) ? 2379 : uri.Port;
        return new UriBuilder(uri.Scheme, uri.Host, port).Uri;
    }
}
