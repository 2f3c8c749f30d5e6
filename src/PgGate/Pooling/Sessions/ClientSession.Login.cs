using System.Buffers;
using System.Net.Security;
using System.Security.Authentication;
using PgGate.Protocol;

namespace PgGate.Pooling.Sessions;

/// <summary>From the first byte to ReadyForQuery: encryption requests, the startup packet, authentication, and the
/// parameters the client is told (those of its pool's servers, with its own settings applied).</summary>
internal sealed partial class ClientSession
{
    /// <summary>Settable parameters that servers report: the ones a client may send in its startup packet.</summary>
    private static readonly string[] TrackedStartupParameters =
    [
        "application_name", "client_encoding", "DateStyle", "IntervalStyle", "TimeZone", "standard_conforming_strings",
        "default_transaction_read_only", "search_path",
    ];

    private byte[]? _initialBuffer;
    private int _initialCount;

    private async Task<bool> LoginAsync()
    {
        var settings = Pooler.Settings;
        using var timeout = settings.ClientLoginTimeout > TimeSpan.Zero
            ? new CancellationTokenSource(settings.ClientLoginTimeout, Pooler.Time)
            : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, Pooler.Stopping);
        var reader = new LoginReader(Transport);
        try
        {
            var startup = await ReadStartupAsync(reader, linked.Token).ConfigureAwait(false);
            if (startup is null || !await AcceptStartupAsync(startup, reader, linked.Token).ConfigureAwait(false))
            {
                return false;
            }

            (_initialBuffer, _initialCount) = reader.TakeRemaining();
            return true;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            await SendFatalAsync(SqlState.ProtocolViolation,
                $"client_login_timeout: the login did not complete within {settings.ClientLoginTimeout.TotalSeconds:0.###} s").ConfigureAwait(false);
            return false;
        }
        catch (InvalidDataException e)
        {
            await SendFatalAsync(SqlState.ProtocolViolation, e.Message).ConfigureAwait(false);
            return false;
        }
        catch (AuthenticationException)
        {
            // TLS handshake failed (e.g. the client rejected the certificate); nothing more can be said in the clear.
            return false;
        }
        finally
        {
            reader.Dispose();
        }
    }

    private async ValueTask<StartupMessage?> ReadStartupAsync(LoginReader reader, CancellationToken cancellationToken)
    {
        var settings = Pooler.Settings;
        for (var packet = 0; ; packet++)
        {
            var parsed = await reader.ReadStartupPacketAsync(cancellationToken).ConfigureAwait(false);
            if (parsed is not { } result)
            {
                return null;
            }

            if (result.IsError)
            {
                // Every malformed first packet, wrong protocol versions included, is a protocol violation here.
                Pooler.CountProtocolError();
                await SendFatalAsync(SqlState.ProtocolViolation, result.ErrorMessage ?? "invalid startup packet").ConfigureAwait(false);
                return null;
            }

            switch (result.Kind)
            {
                case StartupPacketKind.SslRequest:
                case StartupPacketKind.GssEncRequest:
                    if (packet >= 2 || Transport.IsTls)
                    {
                        await SendFatalAsync(SqlState.ProtocolViolation, "unexpected encryption request after encryption was negotiated").ConfigureAwait(false);
                        return null;
                    }

                    if (reader.Buffered > 0)
                    {
                        // Bytes sent before our answer could be injected by a man in the middle (CVE-2021-23222).
                        await SendFatalAsync(SqlState.ProtocolViolation, "received unencrypted data after SSL request").ConfigureAwait(false);
                        return null;
                    }

                    var tls = Pooler.Tls;
                    if (result.Kind == StartupPacketKind.SslRequest && tls is not null && settings.ClientTlsSslMode != ClientTlsMode.Disable)
                    {
                        await Transport.SendAsync(new[] { BackendMessageCode.SslAccepted }, cancellationToken).ConfigureAwait(false);
                        await StartTlsAsync(tls, cancellationToken).ConfigureAwait(false);
                        reader.Transport = Transport;
                    }
                    else
                    {
                        await Transport.SendAsync(new[] { BackendMessageCode.EncryptionRefused }, cancellationToken).ConfigureAwait(false);
                    }

                    continue;
                case StartupPacketKind.CancelRequest:
                    await Pooler.HandleCancelAsync(result.Cancel).ConfigureAwait(false);
                    return null;
                default:
                    return result.Startup;
            }
        }
    }

    private async Task StartTlsAsync(ClientTlsContext tls, CancellationToken cancellationToken)
    {
        // The plain transport made the socket non-blocking for its own calls; NetworkStream (under SslStream) needs it blocking.
        Transport.Socket.Blocking = true;
        var stream = new HandshakeStream(Transport.Socket);
        var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsServerAsync(tls.CreateOptions(), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        stream.HopToThreadPool = false;
        Transport = new TlsClientTransport(Transport.Socket, ssl);
    }

    private async ValueTask<bool> AcceptStartupAsync(StartupMessage startup, LoginReader reader, CancellationToken cancellationToken)
    {
        var settings = Pooler.Settings;
        User = startup.User;
        DatabaseName = startup.Database;
        if (!Transport.IsTls && settings.ClientTlsSslMode >= ClientTlsMode.Require)
        {
            await FailLoginAsync(SqlState.InvalidAuthorizationSpecification, "SSL required",
                hint: $"client_tls_sslmode is {settings.ClientTlsSslMode}: connect with sslmode=require or stricter").ConfigureAwait(false);
            return false;
        }

        if (startup.NeedsProtocolNegotiation())
        {
            // Newer minor versions (3.2) and _pq_ options are answered, not refused: the client goes on with 3.0.
            var negotiation = new ArrayBufferWriter<byte>(64);
            BackendMessageWriter.WriteNegotiateProtocolVersion(
                negotiation, ProtocolConstants.MakeVersion(3, ProtocolConstants.LatestSupportedMinorVersion), startup.GetProtocolOptionNames());
            await WriteToClientAsync(negotiation.WrittenMemory).ConfigureAwait(false);
        }

        if (startup.Replication is { } replication && !IsOff(replication))
        {
            await FailLoginAsync(SqlState.FeatureNotSupported, "replication connections are not supported by the pooler",
                hint: "Connect to PostgreSQL directly (port 5432 or the default service) for replication.").ConfigureAwait(false);
            return false;
        }

        if (PoolerSettings.Contains(PoolerSettings.ConsoleDatabases, DatabaseName))
        {
            return await AcceptConsoleAsync(startup, reader, cancellationToken).ConfigureAwait(false);
        }

        Database = settings.FindDatabase(DatabaseName);
        if (Database is null)
        {
            await FailLoginAsync(SqlState.InvalidCatalogName, $"no such database: {DatabaseName}",
                hint: "Add it to the pooler's [databases], or add a \"*\" entry that serves any database.").ConfigureAwait(false);
            return false;
        }

        if (Pooler.IsDisabled(DatabaseName))
        {
            // PgBouncer's message, which scripts may match; PostgreSQL's SQLSTATE for a database not accepting connections.
            await FailLoginAsync(SqlState.ObjectNotInPrerequisiteState, $"database does not allow connections: {DatabaseName}",
                hint: "An administrator ran DISABLE on the pooler's console; ENABLE lets new clients in again.").ConfigureAwait(false);
            return false;
        }

        if (Pooler.ClientCount > settings.MaxClientConn)
        {
            await FailLoginAsync(SqlState.TooManyConnections, "no more connections allowed (max_client_conn)").ConfigureAwait(false);
            return false;
        }

        var requested = CollectStartupParameters(startup, out var unsupported);
        if (unsupported is not null)
        {
            await FailLoginAsync(SqlState.ProtocolViolation, $"unsupported startup parameter: {unsupported}",
                hint: "Add it to ignore_startup_parameters to have the pooler drop it, or set it with SET after connecting.").ConfigureAwait(false);
            return false;
        }

        Mode = settings.EffectivePoolMode(Database, User);
        if (!await AuthenticateAsync(reader, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        var welcome = await GetWelcomeAsync().ConfigureAwait(false);
        if (welcome is null)
        {
            var failure = _pendingFailure ?? (SqlState.ConnectionFailure, "no server connection could be made", null);
            _pendingFailure = null;
            await FailLoginAsync(failure.SqlState, failure.Message, failure.Detail).ConfigureAwait(false);
            return false;
        }

        var parameters = welcome;
        foreach (var (name, value) in requested)
        {
            var canonical = welcome.FindName(name);
            if (canonical is null)
            {
                if (!IsIgnored(name))
                {
                    await FailLoginAsync(SqlState.ProtocolViolation, $"unsupported startup parameter: {name}",
                        hint: "The server does not report this parameter, so the pooler cannot carry it between server connections. " +
                        "Add it to ignore_startup_parameters, or SET it in each transaction.").ConfigureAwait(false);
                    return false;
                }

                continue;
            }

            if (ParameterSet.IsServerOwned(canonical))
            {
                continue;
            }

            parameters = parameters.With(canonical, value);
        }

        Parameters = parameters;
        (CancelProcessId, CancelKey) = Pooler.Register(this);

        var hello = new ArrayBufferWriter<byte>(512);
        for (var i = 0; i < parameters.Count; i++)
        {
            BackendMessageWriter.WriteParameterStatus(hello, parameters.NameAt(i), parameters.ValueAt(i));
        }

        BackendMessageWriter.WriteBackendKeyData(hello, CancelProcessId, CancelKey);
        BackendMessageWriter.WriteReadyForQuery(hello, TransactionStatus.Idle);
        await WriteToClientAsync(hello.WrittenMemory).ConfigureAwait(false);
        State = ClientState.Idle;
        Pooler.CountLogin();
        return true;
    }

    private static bool IsOff(string value) => value is "false" or "off" or "0" or "no";

    private bool IsIgnored(string name)
    {
        foreach (var ignored in Pooler.Settings.IgnoreStartupParameters)
        {
            if (string.Equals(ignored, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The client's startup settings (including <c>options=-c name=value</c>); reports the first one that can
    /// be neither tracked nor ignored.</summary>
    private List<KeyValuePair<string, string>> CollectStartupParameters(StartupMessage startup, out string? unsupported)
    {
        unsupported = null;
        var result = new List<KeyValuePair<string, string>>(startup.Parameters.Count);
        foreach (var (name, value) in startup.Parameters)
        {
            switch (name)
            {
                case "user":
                case "database":
                case "replication":
                    continue;
                case "options":
                    if (!ParseOptions(value, result))
                    {
                        if (!IsIgnored("options"))
                        {
                            unsupported = "options (only -c name=value settings are supported)";
                            return result;
                        }
                    }

                    continue;
            }

            AddTracked(name, value, result, ref unsupported);
            if (unsupported is not null)
            {
                return result;
            }
        }

        return result;
    }

    private void AddTracked(string name, string value, List<KeyValuePair<string, string>> result, ref string? unsupported)
    {
        foreach (var tracked in TrackedStartupParameters)
        {
            if (string.Equals(tracked, name, StringComparison.OrdinalIgnoreCase))
            {
                result.Add(new(tracked, value));
                return;
            }
        }

        if (!IsIgnored(name))
        {
            unsupported = name;
        }
    }

    /// <summary>Parses "-c name=value" and "--name=value" words (backslash escapes a space); false for anything else.</summary>
    private static bool ParseOptions(string options, List<KeyValuePair<string, string>> into)
    {
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        for (var i = 0; i < options.Length; i++)
        {
            var c = options[i];
            if (c == '\\' && i + 1 < options.Length)
            {
                current.Append(options[++i]);
            }
            else if (char.IsWhiteSpace(c))
            {
                if (current.Length > 0)
                {
                    words.Add(current.ToString());
                    current.Clear();
                }
            }
            else
            {
                current.Append(c);
            }
        }

        if (current.Length > 0)
        {
            words.Add(current.ToString());
        }

        for (var i = 0; i < words.Count; i++)
        {
            string setting;
            if (words[i] == "-c" && i + 1 < words.Count)
            {
                setting = words[++i];
            }
            else if (words[i].StartsWith("-c", StringComparison.Ordinal) && words[i].Length > 2)
            {
                setting = words[i].Substring(2);
            }
            else if (words[i].StartsWith("--", StringComparison.Ordinal))
            {
                setting = words[i].Substring(2);
            }
            else
            {
                return false;
            }

            var equals = setting.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                return false;
            }

            into.Add(new(setting.Substring(0, equals).Replace('-', '_'), setting.Substring(equals + 1)));
        }

        return true;
    }

    /// <summary>The parameters of the client's pool, from its first server connection (opened now if there is none yet).</summary>
    private async ValueTask<ParameterSet?> GetWelcomeAsync()
    {
        var choice = Resolver.Resolve(Database!, User);
        if (choice.Endpoint is { } endpoint)
        {
            var pool = Pooler.GetPool(Resolver, endpoint, DatabaseName, Database!, LoginUser);
            _pool = pool;
            if (pool.Welcome is { } known)
            {
                return known;
            }
        }

        var server = await AcquireServerAsync().ConfigureAwait(false);
        if (server is null)
        {
            return null;
        }

        var welcome = server.Pool.AdoptWelcome(server.Parameters);
        server.Pool.Release(server, null);
        return welcome;
    }

    private async ValueTask FailLoginAsync(string sqlState, string message, string? detail = null, string? hint = null)
    {
        await SendFatalAsync(sqlState, message, detail, hint).ConfigureAwait(false);
    }
}
