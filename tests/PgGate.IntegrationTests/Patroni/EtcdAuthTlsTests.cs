using System.Net;
using PgGate.Cluster.Dcs;
using PgGate.Config;
using PgGate.IntegrationTests.Fixtures;
using PgGate.Sandbox.Patroni;

namespace PgGate.IntegrationTests.Patroni;

/// <summary>
/// The leader watch against etcd as Pigsty runs it: HTTPS with a private CA (so client certificates are required) and
/// authentication on, with a per-cluster user that may use <c>/pg/&lt;cluster&gt;/</c>. Runs its own etcd on 127.0.0.40:2479
/// (peer 2480), next to the Patroni cluster's.
/// </summary>
[Collection("etcd-tls")]
public sealed class EtcdAuthTlsTests : IAsyncLifetime
{
    private const string Key = "/pg/pg-test/leader";
    private static readonly string[] Root = ["--user", "root:root-password"];

    private TestCertificates _certificates = null!;
    private EtcdServer? _etcd;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var reason = PatroniCluster.SkipReason();
        Assert.SkipWhen(reason is not null, "these tests need the Patroni sandbox tools: " + reason);
        _certificates = TestCertificates.Create(Directory.CreateTempSubdirectory("etcd-tls-test-").FullName, IPAddress.Parse("127.0.0.40"));
        try
        {
            await StartEtcdAsync();
        }
        catch
        {
            // xunit does not dispose a class whose initialization failed.
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartEtcdAsync()
    {
        _etcd = await EtcdServer.StartAsync(
            new EtcdServerOptions
            {
                Name = "etcd-tls",
                ClientPort = 2479,
                PeerPort = 2480,
                CertFile = _certificates.CertFile,
                KeyFile = _certificates.KeyFile,
                TrustedCaFile = _certificates.CaFile,
            },
            TestContextLogger.Instance,
            Cancel);

        // Pigsty's etcd layout: a root user, and per cluster a user (named after the cluster) with its own prefix.
        await _etcd.EtcdctlAsync(["user", "add", "root", "--new-user-password=root-password"], Cancel);
        await _etcd.EtcdctlAsync(["user", "add", "pg-test", "--new-user-password=pg-test"], Cancel);
        await _etcd.EtcdctlAsync(["role", "add", "pg-test"], Cancel);
        await _etcd.EtcdctlAsync(["role", "grant-permission", "pg-test", "--prefix=true", "readwrite", "/pg/pg-test/"], Cancel);
        await _etcd.EtcdctlAsync(["user", "grant-role", "pg-test", "pg-test"], Cancel);
        await _etcd.EtcdctlAsync(["auth", "enable"], Cancel);
        await _etcd.EtcdctlAsync([.. Root, "put", Key, "pg-test-1"], Cancel);
    }

    public async ValueTask DisposeAsync()
    {
        if (_etcd is not null)
            await _etcd.DisposeAsync();
        _etcd = null;
        if (_certificates is not null && Directory.Exists(_certificates.Directory))
            Directory.Delete(_certificates.Directory, recursive: true);
    }

    [Fact]
    public async Task Watch_with_the_clusters_user_over_TLS_reads_and_follows_the_key()
    {
        // Pigsty gives vip-manager the CA, a client certificate and the cluster's user.
        await using var watch = new EtcdLeaderWatch(Options("pg-test"), TimeProvider.System, TestContextLogger.Instance);
        watch.Start();
        var read = await watch.WaitForAsync(s => s.IsCurrent, TimeSpan.FromSeconds(10), Cancel);
        Assert.Equal("pg-test-1", read.Leader);
        Assert.Equal("https://127.0.0.40:2479/", read.Endpoint);

        await _etcd!.EtcdctlAsync([.. Root, "put", Key, "pg-test-2"], Cancel);
        Assert.Equal(LeaderKeyChange.Put, (await watch.WaitForAsync(s => s.Leader == "pg-test-2", TimeSpan.FromSeconds(5), Cancel)).Change);
        await _etcd.EtcdctlAsync([.. Root, "del", Key], Cancel);
        var deleted = await watch.WaitForAsync(s => s.Change == LeaderKeyChange.Delete, TimeSpan.FromSeconds(5), Cancel);
        Assert.Null(deleted.Leader);
        Assert.True(deleted.IsCurrent);
    }

    [Fact]
    public async Task A_wrong_password_is_reported_as_an_authentication_failure()
    {
        await using var watch = new EtcdLeaderWatch(Options("not-the-password"), TimeProvider.System);
        watch.Start();
        var failed = await WaitForErrorAsync(watch, "authentication failed");
        Assert.False(failed.IsCurrent);
        Assert.Contains("authentication failed", failed.Error, StringComparison.Ordinal);
        Assert.Contains("https://127.0.0.40:2479", failed.Error, StringComparison.Ordinal);
        Assert.Contains("password", failed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_user_without_rights_on_the_key_is_refused()
    {
        await _etcd!.EtcdctlAsync([.. Root, "user", "add", "pg-other", "--new-user-password=pg-other"], Cancel);
        await using var watch = new EtcdLeaderWatch(Options("pg-other") with { Username = "pg-other" }, TimeProvider.System);
        watch.Start();
        var failed = await WaitForErrorAsync(watch, "permission denied");
        Assert.False(failed.IsCurrent);
    }

    [Fact]
    public async Task A_server_certificate_from_another_CA_is_rejected()
    {
        var other = TestCertificates.Create(Directory.CreateTempSubdirectory("etcd-tls-other-").FullName, IPAddress.Parse("127.0.0.40"), "Another CA");
        try
        {
            await using var watch = new EtcdLeaderWatch(Options("pg-test") with { CaFile = other.CaFile }, TimeProvider.System);
            watch.Start();
            var failed = await WaitForErrorAsync(watch, "The TLS handshake failed");
            Assert.False(failed.IsCurrent);
            Assert.Null(failed.Leader);
            Assert.Contains("RemoteCertificateValidationCallback", failed.Error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(other.Directory, recursive: true);
        }
    }

    [Fact]
    public async Task Without_a_client_certificate_etcd_refuses_the_connection()
    {
        await using var watch = new EtcdLeaderWatch(Options("pg-test") with { CertFile = null, KeyFile = null }, TimeProvider.System);
        watch.Start();
        // etcd either fails the handshake or closes the connection right after it (seen as "The decryption operation
        // failed"), depending on timing; either way the watch names the endpoint and stays disconnected.
        var failed = await WaitForErrorAsync(watch, "is unreachable");
        Assert.False(failed.IsCurrent);
        Assert.Contains("https://127.0.0.40:2479", failed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_certificate_with_a_CommonName_is_refused_by_the_gateway_with_advice()
    {
        await using var watch = new EtcdLeaderWatch(
            Options("pg-test") with { CertFile = _certificates.CertFile, KeyFile = _certificates.KeyFile }, TimeProvider.System);
        watch.Start();
        var failed = await WaitForErrorAsync(watch, "CommonName");
        Assert.Contains("without a CommonName", failed.Error, StringComparison.Ordinal);
    }

    // On a busy machine an attempt may first time out (etcd checks passwords with bcrypt); the watch retries until etcd answers.
    private static Task<LeaderKeyState> WaitForErrorAsync(EtcdLeaderWatch watch, string error) =>
        watch.WaitForAsync(s => s.Error?.Contains(error, StringComparison.Ordinal) == true, TimeSpan.FromSeconds(30), Cancel);

    private EtcdLeaderWatchOptions Options(string password) => new()
    {
        Endpoints = ["127.0.0.40:2479"],
        Scope = "pg-test",
        Username = "pg-test",
        Password = new SecretSource { Value = password },
        CaFile = _certificates.CaFile,
        CertFile = _certificates.ClientCertFile,
        KeyFile = _certificates.ClientKeyFile,
    };
}
