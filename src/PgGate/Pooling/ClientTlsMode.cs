namespace PgGate.Pooling;

/// <summary>TLS towards clients (PgBouncer's <c>client_tls_sslmode</c>).</summary>
public enum ClientTlsMode
{
    /// <summary>SSLRequest is answered 'N'; clients that require TLS cannot connect.</summary>
    Disable,

    /// <summary>TLS when the client asks for it (PgBouncer treats <c>allow</c> like <c>prefer</c>).</summary>
    Allow,

    /// <summary>TLS when the client asks for it; plain clients are served too.</summary>
    Prefer,

    /// <summary>Plain clients are refused (SQLSTATE 28000).</summary>
    Require,

    /// <summary>As <see cref="Require"/>, and the client must present a certificate signed by <c>client_tls_ca_file</c>.</summary>
    VerifyCa,

    /// <summary>Same as <see cref="VerifyCa"/>, as in PgBouncer (the name check belongs to <c>cert</c> authentication).</summary>
    VerifyFull,
}
