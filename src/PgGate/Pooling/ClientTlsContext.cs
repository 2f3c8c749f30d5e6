using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace PgGate.Pooling;

/// <summary>
/// The pooler's TLS identity towards clients (client_tls_cert_file/key_file) and, for verify-ca/verify-full, the CA
/// that client certificates must chain to (client_tls_ca_file). Built once per (re)load.
/// </summary>
public sealed class ClientTlsContext
{
    private readonly SslStreamCertificateContext _certificate;
    private readonly X509Certificate2Collection? _trustedAuthorities;
    private readonly bool _requireClientCertificate;

    public ClientTlsContext(X509Certificate2 certificate, X509Certificate2Collection? intermediates = null,
        X509Certificate2Collection? trustedAuthorities = null, bool requireClientCertificate = false)
    {
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException("The pooler's TLS certificate has no private key; give client_tls_key_file.", nameof(certificate));
        }

        _certificate = SslStreamCertificateContext.Create(certificate, intermediates, offline: true);
        _trustedAuthorities = trustedAuthorities;
        _requireClientCertificate = requireClientCertificate;
        Certificate = certificate;
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>Loads the PEM files the settings name; null when TLS is disabled. Throws naming the file on errors.</summary>
    public static ClientTlsContext? Load(PoolerSettings settings)
    {
        if (settings.ClientTlsSslMode == ClientTlsMode.Disable)
        {
            return null;
        }

        if (string.IsNullOrEmpty(settings.ClientTlsCertFile) || string.IsNullOrEmpty(settings.ClientTlsKeyFile))
        {
            throw new PoolerConfigurationException(
                $"client_tls_sslmode is {settings.ClientTlsSslMode} but client_tls_cert_file or client_tls_key_file is not set.");
        }

        X509Certificate2 certificate;
        X509Certificate2Collection chain = [];
        try
        {
            var pem = X509Certificate2.CreateFromPemFile(settings.ClientTlsCertFile, settings.ClientTlsKeyFile);

            // Ephemeral PEM keys are not usable by SslStream on every platform; a PKCS#12 round trip makes them so.
            certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            chain.ImportFromPemFile(settings.ClientTlsCertFile);
            if (chain.Count > 0)
            {
                chain.RemoveAt(0);
            }
        }
        catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
        {
            throw new PoolerConfigurationException(
                $"cannot load the pooler's TLS certificate {settings.ClientTlsCertFile} with key {settings.ClientTlsKeyFile}: {e.Message}", e);
        }

        X509Certificate2Collection? authorities = null;
        var verify = settings.ClientTlsSslMode >= ClientTlsMode.VerifyCa;
        if (verify)
        {
            if (string.IsNullOrEmpty(settings.ClientTlsCaFile) || !File.Exists(settings.ClientTlsCaFile))
            {
                throw new PoolerConfigurationException(
                    $"client_tls_sslmode is {settings.ClientTlsSslMode}, which checks client certificates, but client_tls_ca_file " +
                    $"\"{settings.ClientTlsCaFile}\" does not exist.");
            }

            authorities = [];
            authorities.ImportFromPemFile(settings.ClientTlsCaFile);
        }

        return new ClientTlsContext(certificate, chain, authorities, verify);
    }

    internal SslServerAuthenticationOptions CreateOptions() => new()
    {
        ServerCertificateContext = _certificate,
        ClientCertificateRequired = _requireClientCertificate,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        EnabledSslProtocols = SslProtocols.None,
        RemoteCertificateValidationCallback = _requireClientCertificate ? ValidateClientCertificate : null,
    };

    private bool ValidateClientCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || _trustedAuthorities is null)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_trustedAuthorities);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return custom.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }
}
