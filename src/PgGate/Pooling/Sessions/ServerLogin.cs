using System.Buffers;
using System.Net.Sockets;
using PgGate.Pooling.Auth;
using PgGate.Protocol;
using PgGate.Protocol.Auth;

namespace PgGate.Pooling.Sessions;

/// <summary>What a server said during login: its parameters and cancel key.</summary>
internal sealed record ServerLoginResult(ParameterSet Parameters, int ProcessId, byte[] SecretKey);

/// <summary>
/// Logs in to a PostgreSQL server over a connected socket: StartupMessage, then trust, cleartext, MD5 (from a plain
/// password or a stored md5 hash) or SCRAM-SHA-256 (from a plain password, with the PBKDF2 result cached per user,
/// or from pass-through keys), then the parameters and the cancel key up to ReadyForQuery.
/// </summary>
internal static class ServerLogin
{
    public static async Task<ServerLoginResult> LoginAsync(
        Socket socket, BackendEndpoint endpoint, string database, ServerCredentials credentials, CancellationToken cancellationToken)
    {
        var peer = new EndPointDescription(endpoint);
        var writer = new ArrayBufferWriter<byte>(256);
        FrontendMessageWriter.WriteStartupMessage(writer, [new("user", credentials.User), new("database", database)]);
        await SendAsync(socket, writer, cancellationToken).ConfigureAwait(false);

        using var reader = new MessageSocketReader(socket);
        var parameters = ParameterSet.Empty;
        var processId = 0;
        byte[] secretKey = [];
        ScramSha256Client? scram = null;
        while (true)
        {
            var code = await reader.ReadAsync(peer, cancellationToken).ConfigureAwait(false);
            switch (code)
            {
                case BackendMessageCode.Authentication:
                    if (!BackendMessageReader.TryReadAuthentication(reader.Payload, out var type, out _))
                    {
                        throw new ServerLoginException($"{peer} sent a malformed authentication request.");
                    }

                    var data = reader.Payload.Slice(4).ToArray();
                    scram = await AnswerAuthenticationAsync(type, data, peer, credentials, scram, writer).ConfigureAwait(false);
                    if (writer.WrittenCount > 0)
                    {
                        await SendAsync(socket, writer, cancellationToken).ConfigureAwait(false);
                    }

                    break;
                case BackendMessageCode.ParameterStatus:
                    if (BackendMessageReader.TryReadParameterStatus(reader.Payload, out var name, out var value))
                    {
                        parameters = parameters.With(name, value);
                    }

                    break;
                case BackendMessageCode.BackendKeyData:
                    if (BackendMessageReader.TryReadBackendKeyData(reader.Payload, out var pid, out var key))
                    {
                        processId = pid;
                        secretKey = key;
                    }

                    break;
                case BackendMessageCode.ErrorResponse:
                    BackendMessageReader.TryReadErrorFields(reader.Payload, out var fields);
                    throw new ServerLoginException(
                        $"{peer} refused the login of \"{credentials.User}\" to database \"{database}\": {fields?.Message}", fields);
                case BackendMessageCode.NoticeResponse:
                case BackendMessageCode.NegotiateProtocolVersion:
                    break;
                case BackendMessageCode.ReadyForQuery:
                    if (scram is not null && !scram.IsServerVerified)
                    {
                        throw new ServerLoginException($"{peer} accepted the login without proving it knows the SCRAM verifier; refusing it.");
                    }

                    return new ServerLoginResult(parameters, processId, secretKey);
                default:
                    throw new ServerLoginException($"{peer} sent an unexpected message '{(char)code}' during login.");
            }
        }
    }

    private static async ValueTask<ScramSha256Client?> AnswerAuthenticationAsync(
        AuthenticationRequestType type, byte[] data, EndPointDescription peer, ServerCredentials credentials,
        ScramSha256Client? scram, ArrayBufferWriter<byte> writer)
    {
        var secret = credentials.Secret;
        switch (type)
        {
            case AuthenticationRequestType.Ok:
                return scram;
            case AuthenticationRequestType.CleartextPassword:
                if (secret is not { Kind: UserSecretKind.Plain })
                {
                    throw NoCredentials(peer, credentials, "a cleartext password", "a plain password in auth_file");
                }

                FrontendMessageWriter.WritePasswordMessage(writer, secret.Value);
                return scram;
            case AuthenticationRequestType.Md5Password:
                var stored = secret?.Md5HashFor(credentials.User);
                if (stored is null || data.Length != 4)
                {
                    throw NoCredentials(peer, credentials, "an MD5 password", "a plain password or md5 hash in auth_file");
                }

                FrontendMessageWriter.WritePasswordMessage(writer, Md5Password.ComputeFromStoredHash(stored, data));
                return scram;
            case AuthenticationRequestType.Sasl:
                if (!BackendMessageReader.TryReadSaslMechanisms(data, out var mechanisms)
                    || Array.IndexOf(mechanisms, ScramSha256Client.MechanismName) < 0)
                {
                    throw new ServerLoginException($"{peer} offers no SASL mechanism PgGate supports (it needs SCRAM-SHA-256).");
                }

                ScramSha256Client client;
                if (secret is { Kind: UserSecretKind.Plain })
                {
                    client = new ScramSha256Client(secret.DeriveServerKeys);
                }
                else if (credentials.PassThroughKeys is { } keys)
                {
                    client = new ScramSha256Client(keys);
                }
                else
                {
                    throw NoCredentials(peer, credentials, "SCRAM-SHA-256",
                        "a plain password in auth_file, or a client that logs in with SCRAM first (pass-through)");
                }

                FrontendMessageWriter.WriteSaslInitialResponse(writer, ScramSha256Client.MechanismName, client.CreateClientFirstMessage());
                return client;
            case AuthenticationRequestType.SaslContinue:
                if (scram is null)
                {
                    throw new ServerLoginException($"{peer} sent SASLContinue without SASL.");
                }

                // PBKDF2 may run here (first login with a plain password): keep it off the socket threads.
                var final = await Task.Run(() => scram.HandleServerFirstMessage(data)).ConfigureAwait(false);
                if (!final.IsSuccess)
                {
                    throw new ServerLoginException($"SCRAM login of \"{credentials.User}\" to {peer} failed: {final.ErrorMessage}");
                }

                FrontendMessageWriter.WriteSaslResponse(writer, final.Message);
                return scram;
            case AuthenticationRequestType.SaslFinal:
                var verified = scram?.HandleServerFinalMessage(data)
                    ?? throw new ServerLoginException($"{peer} sent SASLFinal without SASL.");
                if (!verified.IsSuccess)
                {
                    throw new ServerLoginException($"SCRAM login of \"{credentials.User}\" to {peer} failed: {verified.ErrorMessage}");
                }

                return scram;
            default:
                throw new ServerLoginException(
                    $"{peer} asks for authentication method {type} for \"{credentials.User}\", which PgGate does not support; " +
                    "use trust, password, md5 or scram-sha-256 for it in pg_hba.conf.");
        }
    }

    private static ServerLoginException NoCredentials(EndPointDescription peer, ServerCredentials credentials, string method, string need) =>
        new($"{peer} asks for {method} for user \"{credentials.User}\", but PgGate has no usable secret for it: it needs {need}.");

    internal static async ValueTask SendAsync(Socket socket, ArrayBufferWriter<byte> writer, CancellationToken cancellationToken)
    {
        var pending = writer.WrittenMemory;
        while (!pending.IsEmpty)
        {
            var sent = await socket.SendAsync(pending, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            pending = pending.Slice(sent);
        }

        writer.ResetWrittenCount();
    }
}
