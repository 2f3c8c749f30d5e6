using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PgGate.IntegrationTests.Patroni;

/// <summary>
/// A private CA, a server certificate it signed for an IP address (also usable as a client certificate, as Pigsty's
/// <c>/pg/cert/server.crt</c> is), and a client certificate without a CommonName, written as PEM files into a directory.
/// </summary>
public sealed record TestCertificates(string Directory, string CaFile, string CertFile, string KeyFile, string ClientCertFile, string ClientKeyFile)
{
    public static TestCertificates Create(string directory, IPAddress address, string caName = "PgGate test CA")
    {
        System.IO.Directory.CreateDirectory(directory);
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest($"CN={caName}", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=etcd-test-server", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(address);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        using var certificate = request.Create(ca, now.AddDays(-1), now.AddDays(29), serial);

        using var clientKey = RSA.Create(2048);
        var clientRequest = new CertificateRequest("O=PgGate test client", clientKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        clientRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        clientRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        clientRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        clientRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        using var client = clientRequest.Create(ca, now.AddDays(-1), now.AddDays(29), serial);

        var result = new TestCertificates(directory, Path.Combine(directory, "ca.crt"), Path.Combine(directory, "server.crt"),
            Path.Combine(directory, "server.key"), Path.Combine(directory, "client.crt"), Path.Combine(directory, "client.key"));
        File.WriteAllText(result.CaFile, ca.ExportCertificatePem());
        File.WriteAllText(result.CertFile, certificate.ExportCertificatePem());
        File.WriteAllText(result.KeyFile, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(result.ClientCertFile, client.ExportCertificatePem());
        File.WriteAllText(result.ClientKeyFile, clientKey.ExportPkcs8PrivateKeyPem());
        return result;
    }
}
