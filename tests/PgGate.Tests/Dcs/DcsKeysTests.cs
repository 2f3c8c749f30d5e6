using PgGate.Cluster.Dcs;

namespace PgGate.Tests.Dcs;

public sealed class DcsKeysTests
{
    [Theory]
    [InlineData("/pg/", "pg-test", "/pg/pg-test/leader")]
    [InlineData("/pg", "pg-test", "/pg/pg-test/leader")]
    [InlineData("pg", "pg-test", "/pg/pg-test/leader")]
    [InlineData("//pg//", "pg-test", "/pg/pg-test/leader")]
    [InlineData("/service/", "batman", "/service/batman/leader")]
    [InlineData("/", "pg-test", "/pg-test/leader")]
    [InlineData("", "pg-test", "/pg-test/leader")]
    public void Leader_key_is_built_as_Patroni_builds_it(string @namespace, string scope, string expected) =>
        Assert.Equal(expected, DcsKeys.Leader(@namespace, scope));

    [Theory]
    [InlineData("http://10.10.10.10:2379", false, "http://10.10.10.10:2379/")]
    [InlineData("10.10.10.10:2379", false, "http://10.10.10.10:2379/")]
    [InlineData("10.10.10.10:2379", true, "https://10.10.10.10:2379/")]
    [InlineData("https://etcd-1", false, "https://etcd-1:2379/")]
    [InlineData("http://127.0.0.1:80", false, "http://127.0.0.1/")]
    [InlineData(" https://[::1]:2379 ", false, "https://[::1]:2379/")]
    public void Endpoints_are_read_as_Pigsty_and_Patroni_write_them(string endpoint, bool tls, string expected) =>
        Assert.Equal(expected, EtcdEndpoints.Parse(endpoint, tls).ToString());

    [Theory]
    [InlineData("ftp://10.10.10.10:2379")]
    [InlineData("http://10.10.10.10:2379/v3")]
    [InlineData("not a url at all")]
    public void Bad_endpoints_are_refused_with_the_expected_form(string endpoint) =>
        Assert.Contains("expected http://host:port", Assert.Throws<ArgumentException>(() => EtcdEndpoints.Parse(endpoint, false)).Message,
            StringComparison.Ordinal);

    [Theory]
    [InlineData("3.5.9", "/v3")]
    [InlineData("3.4.0", "/v3")]
    [InlineData("3.3.25", "/v3beta")]
    [InlineData("3.2.32", "/v3alpha")]
    [InlineData("4.0.0", "/v3")]
    [InlineData("not_decided", null)]
    [InlineData(null, null)]
    public void Api_prefix_follows_the_cluster_version_as_Patroni_chooses_it(string? version, string? prefix) =>
        Assert.Equal(prefix, EtcdConnection.ApiPrefixFor(version));
}
