using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;

namespace PgGate.Protocol.Auth;

/// <summary>
/// The server side of SCRAM-SHA-256 without channel binding, checking a client against a stored
/// <see cref="ScramVerifier"/> as PostgreSQL does. After a valid proof it exposes the client's ClientKey
/// (ClientProof XOR HMAC(StoredKey, AuthMessage)), so a pooler can log in to PostgreSQL on the client's behalf.
/// Offer only <see cref="MechanismName"/> in AuthenticationSASL: the PLUS variant needs TLS channel binding.
/// </summary>
public sealed class ScramSha256Server
{
    public const string MechanismName = ScramSha256Client.MechanismName;

    private readonly string? _serverNoncePart;
    private readonly bool _doomed;
    private char _channelBindingFlag;
    private string? _clientFirstBare;
    private string? _serverFirst;
    private string? _nonce;
    private Step _step;

    /// <param name="serverNonce">Only for test vectors: the server's part of the nonce; random otherwise.</param>
    public ScramSha256Server(ScramVerifier verifier, string? serverNonce = null)
        : this(verifier, serverNonce, doomed: false)
    {
    }

    private ScramSha256Server(ScramVerifier verifier, string? serverNonce, bool doomed)
    {
        if (serverNonce is not null && !ScramPrimitives.IsValidNonce(serverNonce))
        {
            throw new ArgumentException("A SCRAM nonce is printable ASCII without ','.", nameof(serverNonce));
        }

        Verifier = verifier;
        _serverNoncePart = serverNonce;
        _doomed = doomed;
    }

    private enum Step : byte
    {
        Start,
        SentServerFirst,
        Done,
        Failed,
    }

    public ScramVerifier Verifier { get; }

    /// <summary>True once the client's proof has been verified.</summary>
    public bool IsAuthenticated => _step == Step.Done;

    /// <summary>The client's ClientKey, recovered from its proof; null until <see cref="IsAuthenticated"/>.</summary>
    public byte[]? ClientKey { get; private set; }

    /// <summary>ClientKey with the verifier's ServerKey, salt and iterations: what a <see cref="ScramSha256Client"/> needs.</summary>
    public ScramKeys? RecoveredKeys =>
        ClientKey is null ? null : new ScramKeys(ClientKey, Verifier.ServerKey, Verifier.Salt, Verifier.Iterations);

    /// <summary>Verifies a client against a plain password by deriving a verifier with a random salt.</summary>
    public static ScramSha256Server ForPassword(string password, int iterations = ScramVerifier.DefaultIterations) =>
        new(ScramVerifier.Create(password, salt: null, iterations));

    /// <summary>
    /// An exchange that looks normal but always fails with <see cref="ScramError.InvalidProof"/>, for unknown users.
    /// Like PostgreSQL's mock authentication, the salt is derived from the user name and a per-process secret, so
    /// repeated attempts see a stable salt and cannot tell unknown users from wrong passwords.
    /// </summary>
    public static ScramSha256Server ForUnknownUser(string userName, ReadOnlySpan<byte> mockSecret)
    {
        var salt = HMACSHA256.HashData(mockSecret, Encoding.UTF8.GetBytes(userName)).AsSpan(0, ScramPrimitives.DefaultSaltLength).ToArray();
        var verifier = new ScramVerifier(
            ScramVerifier.DefaultIterations, salt,
            RandomNumberGenerator.GetBytes(ScramPrimitives.KeyLength), RandomNumberGenerator.GetBytes(ScramPrimitives.KeyLength));
        return new ScramSha256Server(verifier, null, doomed: true);
    }

    /// <summary>Parses the client-first-message (SASLInitialResponse data); the result carries the server-first-message.</summary>
    public ScramStepResult HandleClientFirstMessage(ReadOnlySpan<byte> message)
    {
        if (_step != Step.Start)
        {
            return Fail(ScramError.InvalidState, "A second SCRAM client-first-message arrived in the same exchange.");
        }

        if (!Utf8.IsValid(message))
        {
            return Fail(ScramError.MalformedMessage, "The SCRAM client-first-message is not valid UTF-8.");
        }

        var clientFirst = Encoding.UTF8.GetString(message);

        // GS2 header: channel-binding flag, then an optional authorization identity.
        if (clientFirst.Length < 3)
        {
            return Fail(ScramError.MalformedMessage, "The SCRAM client-first-message is too short to hold a GS2 header.");
        }

        switch (clientFirst[0])
        {
            case 'n':
            case 'y': // The client supports channel binding but believes we do not, which is true: accepted, like PostgreSQL without TLS.
                _channelBindingFlag = clientFirst[0];
                break;
            case 'p':
                return Fail(ScramError.ChannelBindingNotSupported,
                    "The client requires SCRAM channel binding (SCRAM-SHA-256-PLUS), which this server does not offer.");
            default:
                return Fail(ScramError.MalformedMessage, "The SCRAM client-first-message does not start with a GS2 channel-binding flag.");
        }

        if (clientFirst[1] != ',')
        {
            return Fail(ScramError.MalformedMessage, "The GS2 channel-binding flag is not followed by ','.");
        }

        if (clientFirst[2] == 'a')
        {
            return Fail(ScramError.UnsupportedExtension, "The client sent a SCRAM authorization identity (\"a=\"), which is not supported.");
        }

        if (clientFirst[2] != ',')
        {
            return Fail(ScramError.MalformedMessage, "The SCRAM GS2 header is not terminated by ','.");
        }

        _clientFirstBare = clientFirst.Substring(3);
        var reader = new ScramMessageReader(_clientFirstBare);
        if (reader.PeekName() == 'm')
        {
            return Fail(ScramError.UnsupportedExtension, "The client requires a SCRAM extension (\"m=\") that is not supported.");
        }

        // The user name is ignored, as PostgreSQL does: the startup packet already said who the client is.
        if (!reader.TryRead('n', out _) || !reader.TryRead('r', out var clientNonce))
        {
            return Fail(ScramError.MalformedMessage, "The SCRAM client-first-message is not \"n=<user>,r=<nonce>\" after the GS2 header.");
        }

        if (!ScramPrimitives.IsValidNonce(clientNonce))
        {
            return Fail(ScramError.MalformedMessage, "The client's SCRAM nonce is empty or has characters outside printable ASCII.");
        }

        if (!reader.TrySkipExtensions())
        {
            return Fail(ScramError.MalformedMessage, "The SCRAM client-first-message has text after the nonce that is not an \"x=value\" extension.");
        }

        _nonce = clientNonce.ToString() + (_serverNoncePart ?? ScramPrimitives.CreateNonce());
        _serverFirst = string.Create(CultureInfo.InvariantCulture,
            $"r={_nonce},s={Convert.ToBase64String(Verifier.Salt)},i={Verifier.Iterations}");
        _step = Step.SentServerFirst;
        return ScramStepResult.Success(Encoding.UTF8.GetBytes(_serverFirst));
    }

    /// <summary>Verifies the client-final-message (SASLResponse data); on success the result carries the server-final-message.</summary>
    public ScramStepResult HandleClientFinalMessage(ReadOnlySpan<byte> message)
    {
        if (_step != Step.SentServerFirst)
        {
            return Fail(ScramError.InvalidState, "The SCRAM client-final-message arrived before the server-first-message was sent.");
        }

        if (!Utf8.IsValid(message))
        {
            return Fail(ScramError.MalformedMessage, "The SCRAM client-final-message is not valid UTF-8.");
        }

        var clientFinal = Encoding.UTF8.GetString(message);
        var reader = new ScramMessageReader(clientFinal);
        if (!reader.TryRead('c', out var channelBinding))
        {
            return Fail(ScramError.MalformedMessage, "The SCRAM client-final-message does not start with \"c=\".");
        }

        // Without channel binding the attribute is just the GS2 header echoed: "n,," or "y,,".
        var expectedBinding = _channelBindingFlag == 'y' ? "eSws" : "biws";
        if (!channelBinding.SequenceEqual(expectedBinding))
        {
            return Fail(ScramError.MalformedMessage, "The SCRAM channel-binding attribute does not match the GS2 header of the client-first-message.");
        }

        if (!reader.TryRead('r', out var nonce))
        {
            return Fail(ScramError.MalformedMessage, "The SCRAM client-final-message has no nonce (\"r=\").");
        }

        if (!nonce.SequenceEqual(_nonce))
        {
            return Fail(ScramError.NonceMismatch, "The nonce in the SCRAM client-final-message is not the one the server sent.");
        }

        // Extensions may precede the proof, which must come last.
        int proofStart;
        ReadOnlySpan<char> proofBase64;
        while (true)
        {
            proofStart = reader.Position;
            if (!reader.TryReadAny(out var name, out var value))
            {
                return Fail(ScramError.MalformedMessage, "The SCRAM client-final-message has no proof (\"p=\").");
            }

            if (name == 'p')
            {
                proofBase64 = value;
                break;
            }
        }

        if (!reader.IsAtEnd)
        {
            return Fail(ScramError.MalformedMessage, "The SCRAM client-final-message has attributes after the proof.");
        }

        var proof = new byte[ScramPrimitives.KeyLength + 3];
        if (!Convert.TryFromBase64Chars(proofBase64, proof, out var proofLength) || proofLength != ScramPrimitives.KeyLength)
        {
            return Fail(ScramError.MalformedMessage, $"The SCRAM proof is not {ScramPrimitives.KeyLength} bytes of base64.");
        }

        var withoutProof = clientFinal.Substring(0, proofStart - 1);
        var authMessage = Encoding.UTF8.GetBytes(_clientFirstBare + "," + _serverFirst + "," + withoutProof);
        var clientSignature = ScramPrimitives.Hmac(Verifier.StoredKey, authMessage);
        var clientKey = ScramPrimitives.Xor(proof.AsSpan(0, ScramPrimitives.KeyLength), clientSignature);
        var valid = CryptographicOperations.FixedTimeEquals(ScramPrimitives.StoredKey(clientKey), Verifier.StoredKey);
        if (!valid || _doomed)
        {
            return Fail(ScramError.InvalidProof, "password authentication failed: the SCRAM proof does not match the stored verifier");
        }

        ClientKey = clientKey;
        _step = Step.Done;
        var serverSignature = ScramPrimitives.Hmac(Verifier.ServerKey, authMessage);
        return ScramStepResult.Success(Encoding.UTF8.GetBytes("v=" + Convert.ToBase64String(serverSignature)));
    }

    private ScramStepResult Fail(ScramError error, string message)
    {
        _step = Step.Failed;
        return ScramStepResult.Failure(error, message);
    }
}
