using System.Text;
using PgGate.Protocol.Auth;

namespace PgGate.Tests.Protocol;

public class ScramSha256Tests
{
    // RFC 7677 §3 test vector.
    private const string RfcClientNonce = "rOprNGfwEbeRWgbNEkqO";
    private const string RfcServerNoncePart = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    private const string RfcSalt = "W22ZaJ0SNY7soEsUEjb6gQ==";
    private const string RfcClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    private const string RfcServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    private const string RfcClientFinal =
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    private const string RfcServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    // Computed by PostgreSQL 15: CREATE ROLE scram_bob LOGIN PASSWORD 'pencil'; SELECT rolpassword FROM pg_authid.
    private const string PostgresVerifierForPencil =
        "SCRAM-SHA-256$4096:mvHELZ5Ka8hy+BfqeWCU+A==$XwOnRUQwkjxecz68Uol0CviXhDuiEPpGEHFTPAKi9GQ=:gpFmHcDCFJ3UCn+8pGvanLrm2rgBf4smt9nrq3YHPG0=";

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static string Text(byte[]? bytes) => Encoding.UTF8.GetString(bytes!);

    [Fact]
    public void Client_produces_the_RFC_7677_messages_and_accepts_the_RFC_server_signature()
    {
        var client = new ScramSha256Client("pencil", "user", RfcClientNonce);

        Assert.Equal(RfcClientFirst, Text(client.CreateClientFirstMessage()));
        var final = client.HandleServerFirstMessage(Utf8(RfcServerFirst));
        Assert.True(final.IsSuccess, final.ErrorMessage);
        Assert.Equal(RfcClientFinal, Text(final.Message));
        var verified = client.HandleServerFinalMessage(Utf8(RfcServerFinal));
        Assert.True(verified.IsSuccess, verified.ErrorMessage);
        Assert.True(client.IsServerVerified);
    }

    [Fact]
    public void Server_produces_the_RFC_7677_messages_for_a_verifier_derived_from_the_password()
    {
        var verifier = ScramVerifier.Create("pencil", Convert.FromBase64String(RfcSalt), 4096);
        var server = new ScramSha256Server(verifier, RfcServerNoncePart);

        var first = server.HandleClientFirstMessage(Utf8(RfcClientFirst));
        Assert.True(first.IsSuccess, first.ErrorMessage);
        Assert.Equal(RfcServerFirst, Text(first.Message));
        var final = server.HandleClientFinalMessage(Utf8(RfcClientFinal));
        Assert.True(final.IsSuccess, final.ErrorMessage);
        Assert.Equal(RfcServerFinal, Text(final.Message));
        Assert.True(server.IsAuthenticated);
    }

    [Fact]
    public void Client_rejects_a_server_signature_that_is_not_the_RFC_one()
    {
        var client = new ScramSha256Client("pencil", "user", RfcClientNonce);
        client.CreateClientFirstMessage();
        client.HandleServerFirstMessage(Utf8(RfcServerFirst));

        var result = client.HandleServerFinalMessage(Utf8("v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));

        Assert.Equal(ScramError.InvalidServerSignature, result.Error);
        Assert.False(client.IsServerVerified);
    }

    [Fact]
    public void Verifier_created_with_PostgreSQLs_salt_equals_the_one_PostgreSQL_stored()
    {
        var stored = ScramVerifier.Parse(PostgresVerifierForPencil);

        var created = ScramVerifier.Create("pencil", stored.Salt, stored.Iterations);

        Assert.Equal(PostgresVerifierForPencil, created.ToString());
        Assert.True(stored.Matches("pencil"));
        Assert.False(stored.Matches("pencil2"));
    }

    [Fact]
    public void Client_and_server_agree_when_the_password_matches_the_verifier()
    {
        var server = new ScramSha256Server(ScramVerifier.Parse(PostgresVerifierForPencil));
        var client = new ScramSha256Client("pencil");

        Assert.True(Exchange(client, server));
        Assert.True(server.IsAuthenticated);
        Assert.True(client.IsServerVerified);
    }

    [Fact]
    public void A_wrong_password_fails_with_InvalidProof_and_SQLSTATE_28P01()
    {
        var server = new ScramSha256Server(ScramVerifier.Parse(PostgresVerifierForPencil));
        var client = new ScramSha256Client("pencil!");
        var first = server.HandleClientFirstMessage(client.CreateClientFirstMessage());
        var clientFinal = client.HandleServerFirstMessage(first.Message);

        var result = server.HandleClientFinalMessage(clientFinal.Message);

        Assert.Equal(ScramError.InvalidProof, result.Error);
        Assert.Equal("28P01", result.SqlState);
        Assert.Null(result.Message);
        Assert.False(server.IsAuthenticated);
        Assert.Null(server.ClientKey);
    }

    [Fact]
    public void The_recovered_ClientKey_is_the_clients_real_ClientKey()
    {
        var verifier = ScramVerifier.Parse(PostgresVerifierForPencil);
        var server = new ScramSha256Server(verifier);
        Assert.True(Exchange(new ScramSha256Client("pencil"), server));

        // ClientKey := HMAC(SaltedPassword, "Client Key"), computed independently here.
        var salted = System.Security.Cryptography.Rfc2898DeriveBytes.Pbkdf2(
            "pencil"u8.ToArray(), verifier.Salt, verifier.Iterations, System.Security.Cryptography.HashAlgorithmName.SHA256, 32);
        var expected = System.Security.Cryptography.HMACSHA256.HashData(salted, "Client Key"u8.ToArray());
        Assert.Equal(expected, server.ClientKey);
        Assert.Equal(verifier.ServerKey, server.RecoveredKeys!.ServerKey);
    }

    [Fact]
    public void Recovered_keys_authenticate_to_another_server_with_the_same_verifier()
    {
        var verifier = ScramVerifier.Parse(PostgresVerifierForPencil);
        var frontSide = new ScramSha256Server(verifier);
        Assert.True(Exchange(new ScramSha256Client("pencil"), frontSide));

        var passThrough = new ScramSha256Client(frontSide.RecoveredKeys!);
        var backSide = new ScramSha256Server(ScramVerifier.Parse(PostgresVerifierForPencil));

        Assert.True(Exchange(passThrough, backSide));
        Assert.True(passThrough.IsServerVerified);
    }

    [Fact]
    public void Recovered_keys_are_refused_with_a_clear_error_when_the_server_has_another_salt()
    {
        var frontSide = new ScramSha256Server(ScramVerifier.Parse(PostgresVerifierForPencil));
        Assert.True(Exchange(new ScramSha256Client("pencil"), frontSide));
        var passThrough = new ScramSha256Client(frontSide.RecoveredKeys!);
        var otherServer = ScramSha256Server.ForPassword("pencil");

        var first = otherServer.HandleClientFirstMessage(passThrough.CreateClientFirstMessage());
        var result = passThrough.HandleServerFirstMessage(first.Message);

        Assert.Equal(ScramError.KeysDoNotMatchServer, result.Error);
        Assert.Contains("same salt and iterations", result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Server_for_a_plain_password_accepts_that_password_only()
    {
        Assert.True(Exchange(new ScramSha256Client("s3cret"), ScramSha256Server.ForPassword("s3cret")));
        Assert.False(Exchange(new ScramSha256Client("s3cret"), ScramSha256Server.ForPassword("S3cret")));
    }

    [Fact]
    public void Unknown_user_exchange_has_a_stable_salt_and_always_fails()
    {
        var secret = "process secret"u8.ToArray();
        var a = ScramSha256Server.ForUnknownUser("ghost", secret);
        var b = ScramSha256Server.ForUnknownUser("ghost", secret);

        Assert.Equal(a.Verifier.Salt, b.Verifier.Salt);
        Assert.False(Exchange(new ScramSha256Client("anything"), a));
    }

    [Fact]
    public void Server_refuses_a_client_that_requires_channel_binding()
    {
        var server = ScramSha256Server.ForPassword("x");

        var result = server.HandleClientFirstMessage(Utf8("p=tls-server-end-point,,n=,r=abcdef"));

        Assert.Equal(ScramError.ChannelBindingNotSupported, result.Error);
    }

    [Fact]
    public void Server_accepts_a_y_flag_client_whose_final_message_echoes_eSws()
    {
        var verifier = ScramVerifier.Create("pencil", Convert.FromBase64String(RfcSalt));
        var server = new ScramSha256Server(verifier, "srv");
        var first = server.HandleClientFirstMessage(Utf8("y,,n=,r=abc"));
        Assert.True(first.IsSuccess);

        // The proof is wrong on purpose: what matters is that the binding check passes and the proof check runs.
        var final = server.HandleClientFinalMessage(Utf8("c=eSws,r=abcsrv,p=" + Convert.ToBase64String(new byte[32])));
        Assert.Equal(ScramError.InvalidProof, final.Error);
    }

    [Theory]
    [InlineData("n,,n=,r=abc", "c=eSws,r=abcsrv,p=AAAA", ScramError.MalformedMessage)]
    [InlineData("n,,n=,r=abc", "c=biws,r=abcXXX,p=AAAA", ScramError.NonceMismatch)]
    [InlineData("n,,n=,r=abc", "c=biws,r=abcsrv", ScramError.MalformedMessage)]
    [InlineData("n,,n=,r=abc", "c=biws,r=abcsrv,p=AAAA", ScramError.MalformedMessage)]
    [InlineData("n,,n=,r=abc", "c=biws,r=abcsrv,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,x=1", ScramError.MalformedMessage)]
    public void Server_rejects_malformed_client_final_messages(string clientFirst, string clientFinal, ScramError expected)
    {
        var server = new ScramSha256Server(ScramVerifier.Create("pencil"), "srv");
        Assert.True(server.HandleClientFirstMessage(Utf8(clientFirst)).IsSuccess);

        var result = server.HandleClientFinalMessage(Utf8(clientFinal));

        Assert.Equal(expected, result.Error);
        Assert.False(server.IsAuthenticated);
    }

    [Theory]
    [InlineData("", ScramError.MalformedMessage)]
    [InlineData("x,,n=,r=abc", ScramError.MalformedMessage)]
    [InlineData("n,a=admin,n=,r=abc", ScramError.UnsupportedExtension)]
    [InlineData("n,,m=ext,n=,r=abc", ScramError.UnsupportedExtension)]
    [InlineData("n,,r=abc", ScramError.MalformedMessage)]
    [InlineData("n,,n=,r=", ScramError.MalformedMessage)]
    [InlineData("n,,n=,r=a,b", ScramError.MalformedMessage)]
    public void Server_rejects_malformed_client_first_messages(string clientFirst, ScramError expected)
    {
        var server = ScramSha256Server.ForPassword("x");

        Assert.Equal(expected, server.HandleClientFirstMessage(Utf8(clientFirst)).Error);
    }

    [Theory]
    [InlineData("r=other,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", ScramError.NonceMismatch)]
    [InlineData("r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", ScramError.NonceMismatch)]
    [InlineData("r=rOprNGfwEbeRWgbNEkqOxyz,s=!!,i=4096", ScramError.MalformedMessage)]
    [InlineData("r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0", ScramError.MalformedMessage)]
    [InlineData("r=rOprNGfwEbeRWgbNEkqOxyz,i=4096", ScramError.MalformedMessage)]
    [InlineData("m=x,r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", ScramError.UnsupportedExtension)]
    public void Client_rejects_malformed_server_first_messages(string serverFirst, ScramError expected)
    {
        var client = new ScramSha256Client("pencil", "user", RfcClientNonce);
        client.CreateClientFirstMessage();

        Assert.Equal(expected, client.HandleServerFirstMessage(Utf8(serverFirst)).Error);
    }

    [Fact]
    public void Client_reports_a_server_error_attribute()
    {
        var client = new ScramSha256Client("pencil", "user", RfcClientNonce);
        client.CreateClientFirstMessage();
        client.HandleServerFirstMessage(Utf8(RfcServerFirst));

        var result = client.HandleServerFinalMessage(Utf8("e=invalid-proof"));

        Assert.Equal(ScramError.ServerError, result.Error);
        Assert.Contains("invalid-proof", result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void User_names_are_escaped_as_saslname()
    {
        var client = new ScramSha256Client("p", "a,b=c", "nonce");

        Assert.Equal("n,,n=a=2Cb=3Dc,r=nonce", Text(client.CreateClientFirstMessage()));
    }

    private static bool Exchange(ScramSha256Client client, ScramSha256Server server)
    {
        var serverFirst = server.HandleClientFirstMessage(client.CreateClientFirstMessage());
        Assert.True(serverFirst.IsSuccess, serverFirst.ErrorMessage);
        var clientFinal = client.HandleServerFirstMessage(serverFirst.Message);
        if (!clientFinal.IsSuccess)
        {
            return false;
        }

        var serverFinal = server.HandleClientFinalMessage(clientFinal.Message);
        if (!serverFinal.IsSuccess)
        {
            return false;
        }

        return client.HandleServerFinalMessage(serverFinal.Message).IsSuccess;
    }
}
