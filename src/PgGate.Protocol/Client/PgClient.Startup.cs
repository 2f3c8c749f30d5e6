using PgGate.Protocol.Auth;

namespace PgGate.Protocol.Client;

/// <summary>StartupMessage, authentication and the messages up to the first ReadyForQuery.</summary>
public sealed partial class PgClient
{
    private async Task StartupAsync(CancellationToken cancellationToken)
    {
        FrontendMessageWriter.WriteStartupMessage(_writeBuffer, BuildStartupParameters(_options));
        await FlushAsync(cancellationToken).ConfigureAwait(false);

        ScramSha256Client? scram = null;
        while (true)
        {
            var header = await ReadMessageAsync(cancellationToken).ConfigureAwait(false);
            switch (header.Code)
            {
                case BackendMessageCode.Authentication:
                    scram = HandleAuthentication(scram);
                    if (_writeBuffer.WrittenCount > 0)
                    {
                        await FlushAsync(cancellationToken).ConfigureAwait(false);
                    }

                    break;
                case BackendMessageCode.ParameterStatus:
                    HandleParameterStatus();
                    break;
                case BackendMessageCode.BackendKeyData:
                    if (!BackendMessageReader.TryReadBackendKeyData(Payload, out var processId, out var secretKey))
                    {
                        throw Malformed(header.Code);
                    }

                    ProcessId = processId;
                    SecretKey = secretKey;
                    break;
                case BackendMessageCode.NegotiateProtocolVersion:
                    // We ask for 3.0 without options, so a server can only confirm it; nothing to adapt.
                    break;
                case BackendMessageCode.NoticeResponse:
                    HandleNotice();
                    break;
                case BackendMessageCode.ErrorResponse:
                    throw ServerError(header.Code);
                case BackendMessageCode.ReadyForQuery:
                    HandleReadyForQuery(header.Code);
                    return;
                default:
                    throw Unexpected(header.Code, "during startup");
            }
        }
    }

    private static List<KeyValuePair<string, string>> BuildStartupParameters(PgClientOptions options)
    {
        var parameters = new List<KeyValuePair<string, string>>(8) { new("user", options.User) };
        if (options.Database is not null)
        {
            parameters.Add(new("database", options.Database));
        }

        if (options.ApplicationName is not null)
        {
            parameters.Add(new("application_name", options.ApplicationName));
        }

        var hasEncoding = false;
        if (options.StartupParameters is not null)
        {
            foreach (var parameter in options.StartupParameters)
            {
                hasEncoding |= string.Equals(parameter.Key, "client_encoding", StringComparison.Ordinal);
                parameters.Add(parameter);
            }
        }

        // Every string is decoded as UTF-8, so the server must send UTF-8.
        if (!hasEncoding)
        {
            parameters.Add(new("client_encoding", "UTF8"));
        }

        return parameters;
    }

    /// <summary>Answers one Authentication message; returns the SCRAM exchange in progress, if any.</summary>
    private ScramSha256Client? HandleAuthentication(ScramSha256Client? scram)
    {
        if (!BackendMessageReader.TryReadAuthentication(Payload, out var type, out var data))
        {
            throw Malformed(BackendMessageCode.Authentication);
        }

        switch (type)
        {
            case AuthenticationRequestType.Ok:
                if (scram is not null && !scram.IsServerVerified)
                {
                    throw new PgProtocolException(
                        $"PostgreSQL at {RemoteEndPoint} reported success before proving it knows the SCRAM verifier; refusing the connection.");
                }

                return scram;
            case AuthenticationRequestType.CleartextPassword:
                FrontendMessageWriter.WritePasswordMessage(_writeBuffer, RequirePassword("password"));
                return scram;
            case AuthenticationRequestType.Md5Password:
                if (data.Length != 4)
                {
                    throw Malformed(BackendMessageCode.Authentication);
                }

                FrontendMessageWriter.WritePasswordMessage(_writeBuffer, Md5Password.Compute(_options.User, RequirePassword("md5"), data));
                return scram;
            case AuthenticationRequestType.Sasl:
                return StartScram(data);
            case AuthenticationRequestType.SaslContinue:
                if (scram is null)
                {
                    throw Unexpected(BackendMessageCode.Authentication, "(SASLContinue without SASL)");
                }

                var final = scram.HandleServerFirstMessage(data);
                if (!final.IsSuccess)
                {
                    throw new PgProtocolException($"SCRAM authentication with PostgreSQL at {RemoteEndPoint} failed: {final.ErrorMessage}");
                }

                FrontendMessageWriter.WriteSaslResponse(_writeBuffer, final.Message);
                return scram;
            case AuthenticationRequestType.SaslFinal:
                var verified = scram?.HandleServerFinalMessage(data)
                    ?? throw Unexpected(BackendMessageCode.Authentication, "(SASLFinal without SASL)");
                if (!verified.IsSuccess)
                {
                    throw new PgProtocolException($"SCRAM authentication with PostgreSQL at {RemoteEndPoint} failed: {verified.ErrorMessage}");
                }

                return scram;
            default:
                throw new PgConnectionException(
                    $"PostgreSQL at {RemoteEndPoint} asks for authentication method {type} ({(int)type}), which this client does not support. " +
                    "Use trust, password, md5 or scram-sha-256 for this user in pg_hba.conf.");
        }
    }

    private ScramSha256Client StartScram(ReadOnlySpan<byte> data)
    {
        if (!BackendMessageReader.TryReadSaslMechanisms(data, out var mechanisms))
        {
            throw Malformed(BackendMessageCode.Authentication);
        }

        if (Array.IndexOf(mechanisms, ScramSha256Client.MechanismName) < 0)
        {
            throw new PgConnectionException(
                $"PostgreSQL at {RemoteEndPoint} offers SASL mechanisms [{string.Join(", ", mechanisms)}], but this client supports only " +
                $"{ScramSha256Client.MechanismName} (channel binding needs TLS, which it does not do).");
        }

        var scram = _options.ScramKeys is not null
            ? new ScramSha256Client(_options.ScramKeys)
            : new ScramSha256Client(RequirePassword("scram-sha-256"));
        FrontendMessageWriter.WriteSaslInitialResponse(_writeBuffer, ScramSha256Client.MechanismName, scram.CreateClientFirstMessage());
        return scram;
    }

    private string RequirePassword(string method) =>
        _options.Password ?? throw new PgConnectionException(
            $"PostgreSQL at {RemoteEndPoint} requires {method} authentication for user \"{_options.User}\", but no password is configured.");
}
