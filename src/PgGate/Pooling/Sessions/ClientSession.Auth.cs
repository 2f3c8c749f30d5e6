using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using PgGate.Pooling.Auth;
using PgGate.Protocol;
using PgGate.Protocol.Auth;

namespace PgGate.Pooling.Sessions;

/// <summary>
/// Client authentication: trust, cleartext password, MD5 and SCRAM-SHA-256 against the secrets of auth_file or
/// auth_query, with the method from auth_type or from the first matching HBA line. Unknown users go through the same
/// exchange as known ones and fail the same way, so that probing cannot tell them apart.
/// </summary>
internal sealed partial class ClientSession
{
    private IPAddress RemoteAddress => (Transport.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.Loopback;

    private async ValueTask<bool> AuthenticateAsync(LoginReader reader, CancellationToken cancellationToken)
    {
        var settings = Pooler.Settings;
        HbaMethod method;
        switch (settings.AuthType)
        {
            case PoolerAuthType.Trust:
                method = HbaMethod.Trust;
                break;
            case PoolerAuthType.Password:
                method = HbaMethod.Password;
                break;
            case PoolerAuthType.Md5:
                method = HbaMethod.Md5;
                break;
            case PoolerAuthType.ScramSha256:
                method = HbaMethod.ScramSha256;
                break;
            default:
                var resolved = await ResolveHbaMethodAsync().ConfigureAwait(false);
                if (resolved is null)
                {
                    return false;
                }

                method = resolved.Value;
                break;
        }

        (bool Known, UserSecret Secret) user;
        try
        {
            user = await Pooler.LookupSecretAsync(this, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Pooler.CountAuthFailure();
            await FailLoginAsync(SqlState.InvalidAuthorizationSpecification,
                $"could not look up user \"{User}\" with auth_query: {e.Message}",
                hint: "Check auth_user's password in auth_file and that auth_query runs in this database.").ConfigureAwait(false);
            return false;
        }

        bool? accepted = method switch
        {
            HbaMethod.Trust => user.Known,
            HbaMethod.Password => await CleartextAsync(reader, user.Known, user.Secret, cancellationToken).ConfigureAwait(false),
            HbaMethod.Md5 when user.Known && user.Secret.Kind == UserSecretKind.Scram =>
                await ScramAsync(reader, user.Secret, cancellationToken).ConfigureAwait(false),
            HbaMethod.Md5 => await Md5Async(reader, user.Known, user.Secret, cancellationToken).ConfigureAwait(false),
            _ => await ScramAsync(reader, user.Known && user.Secret.Kind is UserSecretKind.Plain or UserSecretKind.Scram ? user.Secret : null,
                cancellationToken).ConfigureAwait(false),
        };

        if (accepted is null)
        {
            // The client left or broke the exchange; a FATAL was sent where the protocol allows one.
            Pooler.CountAuthFailure();
            return false;
        }

        if (accepted == false)
        {
            Pooler.CountAuthFailure();
            if (method == HbaMethod.Trust)
            {
                await FailLoginAsync(SqlState.InvalidAuthorizationSpecification, $"no such user: {User}",
                    hint: "Add the user to auth_file, or configure auth_user and auth_query.").ConfigureAwait(false);
            }
            else
            {
                await FailLoginAsync(SqlState.InvalidPassword, $"password authentication failed for user \"{User}\"").ConfigureAwait(false);
            }

            return false;
        }

        var ok = new ArrayBufferWriter<byte>(16);
        BackendMessageWriter.WriteAuthenticationOk(ok);
        await WriteToClientAsync(ok.WrittenMemory).ConfigureAwait(false);
        return true;
    }

    private async ValueTask<HbaMethod?> ResolveHbaMethodAsync()
    {
        var hba = Pooler.Hba;
        var address = RemoteAddress;
        var encryption = Transport.IsTls ? "SSL encryption" : "no encryption";
        var rule = hba?.Match(Transport.IsTls, DatabaseName, User, address);
        if (rule is null)
        {
            Pooler.CountAuthFailure();
            await FailLoginAsync(SqlState.InvalidAuthorizationSpecification,
                $"no pg_hba.conf entry for host \"{address}\", user \"{User}\", database \"{DatabaseName}\", {encryption}",
                detail: hba is null ? "auth_type is hba but no auth_hba_file was loaded." : $"No line of {hba.Source} matches.").ConfigureAwait(false);
            return null;
        }

        switch (rule.Method)
        {
            case HbaMethod.Reject:
                Pooler.CountAuthFailure();
                await FailLoginAsync(SqlState.InvalidAuthorizationSpecification,
                    $"pg_hba.conf rejects connection for host \"{address}\", user \"{User}\", database \"{DatabaseName}\", {encryption}",
                    detail: $"{hba!.Source}:{rule.Line}: {rule.Text}").ConfigureAwait(false);
                return null;
            case HbaMethod.Peer:
            case HbaMethod.Cert:
                Pooler.CountAuthFailure();
                await FailLoginAsync(SqlState.InvalidAuthorizationSpecification,
                    $"{(rule.Method == HbaMethod.Peer ? "peer" : "cert")} authentication is not available for TCP clients of PgGate's pooler",
                    detail: $"{hba!.Source}:{rule.Line}: {rule.Text}",
                    hint: "Use md5, scram-sha-256, password or trust on this line.").ConfigureAwait(false);
                return null;
            default:
                return rule.Method;
        }
    }

    /// <summary>Reads the client's next authentication message; null (after a FATAL where due) when it is not one.</summary>
    private async ValueTask<ReadOnlyMemory<byte>?> ReadPasswordMessageAsync(LoginReader reader, CancellationToken cancellationToken)
    {
        var code = await reader.ReadMessageAsync(cancellationToken).ConfigureAwait(false);
        if (code is null)
        {
            return null;
        }

        if (code != FrontendMessageCode.Password)
        {
            Pooler.CountProtocolError();
            await SendFatalAsync(SqlState.ProtocolViolation,
                $"expected password response, got message type {DescribeCode(code.Value)}").ConfigureAwait(false);
            return null;
        }

        return reader.Payload;
    }

    private async ValueTask<bool?> CleartextAsync(LoginReader reader, bool known, UserSecret secret, CancellationToken cancellationToken)
    {
        var request = new ArrayBufferWriter<byte>(16);
        BackendMessageWriter.WriteAuthenticationCleartextPassword(request);
        await WriteToClientAsync(request.WrittenMemory).ConfigureAwait(false);
        var payload = await ReadPasswordMessageAsync(reader, cancellationToken).ConfigureAwait(false);
        if (payload is null)
        {
            return null;
        }

        if (!FrontendMessageReader.TryReadPasswordMessage(payload.Value.Span, out var password))
        {
            await SendFatalAsync(SqlState.ProtocolViolation, "invalid password packet").ConfigureAwait(false);
            return null;
        }

        if (!known)
        {
            return false;
        }

        // Checking against a SCRAM verifier runs PBKDF2: not on a socket thread.
        var matches = secret.Kind == UserSecretKind.Scram
            ? await Task.Run(() => secret.MatchesCleartext(User, password), cancellationToken).ConfigureAwait(false)
            : secret.MatchesCleartext(User, password);
        if (matches && secret.Kind == UserSecretKind.Scram && secret.GetVerifier() is { } verifier)
        {
            // The password is known now: keep keys so servers that only have the verifier accept the pooler too.
            var salt = verifier.Salt;
            var iterations = verifier.Iterations;
            var keys = await Task.Run(() => ScramKeys.Derive(password, salt, iterations), cancellationToken).ConfigureAwait(false);
            Pooler.RememberScramKeys(User, keys);
        }

        return matches;
    }

    private async ValueTask<bool?> Md5Async(LoginReader reader, bool known, UserSecret secret, CancellationToken cancellationToken)
    {
        var salt = RandomNumberGenerator.GetBytes(4);
        var request = new ArrayBufferWriter<byte>(16);
        BackendMessageWriter.WriteAuthenticationMd5Password(request, salt);
        await WriteToClientAsync(request.WrittenMemory).ConfigureAwait(false);
        var payload = await ReadPasswordMessageAsync(reader, cancellationToken).ConfigureAwait(false);
        if (payload is null)
        {
            return null;
        }

        if (!FrontendMessageReader.TryReadPasswordMessage(payload.Value.Span, out var response))
        {
            await SendFatalAsync(SqlState.ProtocolViolation, "invalid password packet").ConfigureAwait(false);
            return null;
        }

        var stored = known ? secret.Md5HashFor(User) : null;
        return stored is not null && Md5Password.Verify(response, stored, salt);
    }

    private async ValueTask<bool?> ScramAsync(LoginReader reader, UserSecret? secret, CancellationToken cancellationToken)
    {
        ScramVerifier? verifier = null;
        if (secret is not null)
        {
            verifier = secret.HasVerifierReady
                ? secret.GetVerifier()
                : await Task.Run(secret.GetVerifier, cancellationToken).ConfigureAwait(false);
        }

        var scram = verifier is null
            ? ScramSha256Server.ForUnknownUser(User, Pooler.MockSecret)
            : new ScramSha256Server(verifier);
        var request = new ArrayBufferWriter<byte>(64);
        BackendMessageWriter.WriteAuthenticationSasl(request, [ScramSha256Server.MechanismName]);
        await WriteToClientAsync(request.WrittenMemory).ConfigureAwait(false);

        var initial = await ReadPasswordMessageAsync(reader, cancellationToken).ConfigureAwait(false);
        if (initial is null)
        {
            return null;
        }

        if (!FrontendMessageReader.TryReadSaslInitialResponse(initial.Value.Span, out var mechanism, out var first))
        {
            await SendFatalAsync(SqlState.ProtocolViolation, "malformed SASLInitialResponse message").ConfigureAwait(false);
            return null;
        }

        if (mechanism != ScramSha256Server.MechanismName)
        {
            await SendFatalAsync(SqlState.ProtocolViolation,
                $"client selected an invalid SASL authentication mechanism \"{mechanism}\" (offered: {ScramSha256Server.MechanismName})").ConfigureAwait(false);
            return null;
        }

        var serverFirst = scram.HandleClientFirstMessage(first);
        if (!serverFirst.IsSuccess)
        {
            await SendFatalAsync(serverFirst.SqlState, serverFirst.ErrorMessage!).ConfigureAwait(false);
            return null;
        }

        request.ResetWrittenCount();
        BackendMessageWriter.WriteAuthenticationSaslContinue(request, serverFirst.Message);
        await WriteToClientAsync(request.WrittenMemory).ConfigureAwait(false);

        var final = await ReadPasswordMessageAsync(reader, cancellationToken).ConfigureAwait(false);
        if (final is null)
        {
            return null;
        }

        var serverFinal = scram.HandleClientFinalMessage(final.Value.Span);
        if (!serverFinal.IsSuccess)
        {
            if (serverFinal.Error != ScramError.InvalidProof)
            {
                await SendFatalAsync(serverFinal.SqlState, serverFinal.ErrorMessage!).ConfigureAwait(false);
                return null;
            }

            return false;
        }

        request.ResetWrittenCount();
        BackendMessageWriter.WriteAuthenticationSaslFinal(request, serverFinal.Message);
        await WriteToClientAsync(request.WrittenMemory).ConfigureAwait(false);
        if (scram.RecoveredKeys is { } keys)
        {
            Pooler.RememberScramKeys(User, keys);
        }

        return true;
    }
}
