namespace PgGate.Protocol;

/// <summary>The Int32 subtype that follows the 'R' (Authentication) message code.</summary>
public enum AuthenticationRequestType
{
    Ok = 0,
    KerberosV5 = 2,
    CleartextPassword = 3,
    Md5Password = 5,
    Gss = 7,
    GssContinue = 8,
    Sspi = 9,
    Sasl = 10,
    SaslContinue = 11,
    SaslFinal = 12,
}
