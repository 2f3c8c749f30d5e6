using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;

namespace PgGate.Protocol.Auth;

/// <summary>
/// The client side of SCRAM-SHA-256 without channel binding (RFC 5802, RFC 7677), from a password or from
/// <see cref="ScramKeys"/>. Call <see cref="CreateClientFirstMessage"/>, then <see cref="HandleServerFirstMessage"/>
/// (its result carries the client-final-message), then <see cref="HandleServerFinalMessage"/>, which proves the server
/// knew the verifier. One instance serves one exchange.
/// </summary>
public sealed class ScramSha256Client
{
    public const string MechanismName = "SCRAM-SHA-256";

    // Base64 of the GS2 header "n,,": no channel binding, no authorization identity.
    private const string ChannelBindingNone = "biws";

    private readonly string? _password;
    private readonly ScramKeys? _keys;
    private readonly Func<byte[], int, ScramKeys>? _keysForVerifier;
    private readonly string _userName;
    private readonly string _clientNonce;
    private string? _clientFirstBare;
    private byte[]? _expectedServerSignature;
    private Step _step;

    /// <param name="userName">Sent in the "n=" attribute; PostgreSQL ignores it (the startup packet names the user), so "" is usual.</param>
    /// <param name="clientNonce">Only for test vectors; a random 18-byte nonce is used otherwise.</param>
    public ScramSha256Client(string password, string userName = "", string? clientNonce = null)
        : this(password, null, userName, clientNonce)
    {
    }

    /// <summary>Authenticates with a ClientKey/ServerKey pair instead of a password (SCRAM pass-through).</summary>
    public ScramSha256Client(ScramKeys keys, string userName = "", string? clientNonce = null)
        : this(null, keys, userName, clientNonce)
    {
    }

    /// <summary>
    /// Authenticates with keys obtained once the server has named its salt and iteration count, so a caller can cache
    /// the expensive PBKDF2 derivation of a password (see <see cref="ScramKeys.Derive"/>) across connections.
    /// </summary>
    public ScramSha256Client(Func<byte[], int, ScramKeys> keysForVerifier, string userName = "", string? clientNonce = null)
        : this(null, null, userName, clientNonce)
    {
        ArgumentNullException.ThrowIfNull(keysForVerifier);
        _keysForVerifier = keysForVerifier;
    }

    private ScramSha256Client(string? password, ScramKeys? keys, string userName, string? clientNonce)
    {
        if (clientNonce is not null && !ScramPrimitives.IsValidNonce(clientNonce))
        {
            throw new ArgumentException("A SCRAM nonce is printable ASCII without ','.", nameof(clientNonce));
        }

        _password = password;
        _keys = keys;
        _userName = userName;
        _clientNonce = clientNonce ?? ScramPrimitives.CreateNonce();
    }

    private enum Step : byte
    {
        Start,
        SentClientFirst,
        SentClientFinal,
        Done,
        Failed,
    }

    /// <summary>True once the server's signature has been verified.</summary>
    public bool IsServerVerified => _step == Step.Done;

    /// <summary>The client-first-message: GS2 header "n,," then "n=user,r=nonce".</summary>
    public byte[] CreateClientFirstMessage()
    {
        if (_step != Step.Start)
        {
            throw new InvalidOperationException("The client-first-message was already created; use a new ScramSha256Client per exchange.");
        }

        _clientFirstBare = "n=" + EscapeSaslName(_userName) + ",r=" + _clientNonce;
        _step = Step.SentClientFirst;
        return Encoding.UTF8.GetBytes("n,," + _clientFirstBare);
    }

    /// <summary>Checks the server-first-message and computes the client-final-message with the proof.</summary>
    public ScramStepResult HandleServerFirstMessage(ReadOnlySpan<byte> message)
    {
        if (_step != Step.SentClientFirst)
        {
            return Fail(ScramError.InvalidState, "The server-first-message arrived before the client-first-message was sent.");
        }

        if (!Utf8.IsValid(message))
        {
            return Fail(ScramError.MalformedMessage, "The SCRAM server-first-message is not valid UTF-8.");
        }

        var serverFirst = Encoding.UTF8.GetString(message);
        var reader = new ScramMessageReader(serverFirst);
        if (reader.PeekName() == 'm')
        {
            return Fail(ScramError.UnsupportedExtension, "The server requires a SCRAM extension (\"m=\") that this client does not implement.");
        }

        if (!reader.TryRead('r', out var nonce) || !reader.TryRead('s', out var saltBase64) || !reader.TryRead('i', out var iterationText))
        {
            return Fail(ScramError.MalformedMessage, "The SCRAM server-first-message is not \"r=<nonce>,s=<salt>,i=<iterations>\".");
        }

        if (!reader.TrySkipExtensions())
        {
            return Fail(ScramError.MalformedMessage, "The SCRAM server-first-message has text after the iteration count that is not an \"x=value\" extension.");
        }

        if (!nonce.StartsWith(_clientNonce, StringComparison.Ordinal) || nonce.Length == _clientNonce.Length || !ScramPrimitives.IsValidNonce(nonce))
        {
            return Fail(ScramError.NonceMismatch, "The server's SCRAM nonce does not extend the client's nonce.");
        }

        byte[] salt;
        try
        {
            salt = Convert.FromBase64String(saltBase64.ToString());
        }
        catch (FormatException)
        {
            return Fail(ScramError.MalformedMessage, "The salt in the SCRAM server-first-message is not valid base64.");
        }

        if (!int.TryParse(iterationText, NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations <= 0 || salt.Length == 0)
        {
            return Fail(ScramError.MalformedMessage, "The SCRAM server-first-message has an empty salt or an invalid iteration count.");
        }

        byte[] clientKey, serverKey;
        if (_keysForVerifier is not null)
        {
            var derived = _keysForVerifier(salt, iterations);
            clientKey = derived.ClientKey;
            serverKey = derived.ServerKey;
        }
        else if (_keys is not null)
        {
            if ((_keys.Salt is not null && !_keys.Salt.AsSpan().SequenceEqual(salt)) || (_keys.Iterations != 0 && _keys.Iterations != iterations))
            {
                return Fail(ScramError.KeysDoNotMatchServer,
                    "The server's SCRAM verifier uses a different salt or iteration count than the keys this client was given; " +
                    "SCRAM pass-through needs the same verifier (same salt and iterations) on both sides.");
            }

            clientKey = _keys.ClientKey;
            serverKey = _keys.ServerKey;
        }
        else
        {
            var saltedPassword = ScramPrimitives.SaltedPassword(_password!, salt, iterations);
            clientKey = ScramPrimitives.ClientKey(saltedPassword);
            serverKey = ScramPrimitives.ServerKey(saltedPassword);
        }

        var clientFinalWithoutProof = "c=" + ChannelBindingNone + ",r=" + nonce.ToString();
        var authMessage = Encoding.UTF8.GetBytes(_clientFirstBare + "," + serverFirst + "," + clientFinalWithoutProof);
        var clientSignature = ScramPrimitives.Hmac(ScramPrimitives.StoredKey(clientKey), authMessage);
        var proof = ScramPrimitives.Xor(clientKey, clientSignature);
        _expectedServerSignature = ScramPrimitives.Hmac(serverKey, authMessage);
        _step = Step.SentClientFinal;
        return ScramStepResult.Success(Encoding.UTF8.GetBytes(clientFinalWithoutProof + ",p=" + Convert.ToBase64String(proof)));
    }

    /// <summary>Verifies the server-final-message "v=signature"; "e=error" is reported as <see cref="ScramError.ServerError"/>.</summary>
    public ScramStepResult HandleServerFinalMessage(ReadOnlySpan<byte> message)
    {
        if (_step != Step.SentClientFinal)
        {
            return Fail(ScramError.InvalidState, "The server-final-message arrived before the client-final-message was sent.");
        }

        var serverFinal = Encoding.UTF8.GetString(message);
        var reader = new ScramMessageReader(serverFinal);
        if (reader.TryRead('e', out var serverError))
        {
            return Fail(ScramError.ServerError, $"The server rejected the SCRAM exchange: {serverError}.");
        }

        if (!reader.TryRead('v', out var signatureBase64))
        {
            return Fail(ScramError.MalformedMessage, "The SCRAM server-final-message is not \"v=<signature>\".");
        }

        var signature = new byte[ScramPrimitives.KeyLength + 3];
        if (!Convert.TryFromBase64Chars(signatureBase64, signature, out var written)
            || written != ScramPrimitives.KeyLength
            || !CryptographicOperations.FixedTimeEquals(signature.AsSpan(0, written), _expectedServerSignature))
        {
            return Fail(ScramError.InvalidServerSignature,
                "The server's SCRAM signature is wrong: the server does not know this user's password verifier.");
        }

        _step = Step.Done;
        return ScramStepResult.Success(null);
    }

    /// <summary>RFC 5802 saslname: ',' and '=' are escaped as "=2C" and "=3D".</summary>
    internal static string EscapeSaslName(string name) =>
        name.AsSpan().IndexOfAny(',', '=') < 0 ? name : name.Replace("=", "=3D", StringComparison.Ordinal).Replace(",", "=2C", StringComparison.Ordinal);

    private ScramStepResult Fail(ScramError error, string message)
    {
        _step = Step.Failed;
        return ScramStepResult.Failure(error, message);
    }
}
