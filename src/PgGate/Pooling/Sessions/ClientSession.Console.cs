using System.Buffers;
using PgGate.Pooling.Console;
using PgGate.Protocol;

namespace PgGate.Pooling.Sessions;

/// <summary>
/// A client of the admin console (database <c>pgbouncer</c> or <c>pggate</c>): authenticated like any client (auth_file
/// secrets, auth_type or HBA), admitted if it is in admin_users or stats_users, then answered by <see cref="AdminConsole"/>.
/// The simple query protocol is what PgBouncer supports; the extended protocol works too for parameterless commands
/// (Parse/Bind/Describe/Execute/Sync), so drivers that always use it (Npgsql) can read the console.
/// </summary>
internal sealed partial class ClientSession
{
    private const string ConsoleServerVersion = "1.18.0/pggate";

    /// <summary>Logged in to the admin console rather than a pooled database.</summary>
    public bool IsConsole { get; private set; }

    private bool _consoleAdmin;

    private async ValueTask<bool> AcceptConsoleAsync(StartupMessage startup, LoginReader reader, CancellationToken cancellationToken)
    {
        var settings = Pooler.Settings;
        IsConsole = true;
        Mode = PoolMode.Statement;
        if (Pooler.ClientCount > settings.MaxClientConn)
        {
            await FailLoginAsync(SqlState.TooManyConnections, "no more connections allowed (max_client_conn)").ConfigureAwait(false);
            return false;
        }

        if (!await AuthenticateAsync(reader, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        // Checked after authentication, so the answer does not tell strangers who the admins are.
        if (!settings.IsStatsUser(User))
        {
            Pooler.CountAuthFailure();
            await FailLoginAsync(SqlState.InvalidAuthorizationSpecification, $"user \"{User}\" may not use the admin console",
                hint: "Add the user to admin_users (every command) or stats_users (SHOW commands).").ConfigureAwait(false);
            return false;
        }

        _consoleAdmin = settings.IsAdminUser(User);
        var applicationName = startup.GetParameter("application_name");
        if (applicationName is not null)
        {
            Parameters = ParameterSet.Empty.With("application_name", applicationName);
        }

        (CancelProcessId, CancelKey) = Pooler.Register(this);
        var hello = new ArrayBufferWriter<byte>(512);
        BackendMessageWriter.WriteParameterStatus(hello, "server_version", ConsoleServerVersion);
        BackendMessageWriter.WriteParameterStatus(hello, "client_encoding", "UTF8");
        BackendMessageWriter.WriteParameterStatus(hello, "server_encoding", "UTF8");
        BackendMessageWriter.WriteParameterStatus(hello, "DateStyle", "ISO");
        BackendMessageWriter.WriteParameterStatus(hello, "TimeZone", "UTC");
        BackendMessageWriter.WriteParameterStatus(hello, "integer_datetimes", "on");
        BackendMessageWriter.WriteParameterStatus(hello, "standard_conforming_strings", "on");
        BackendMessageWriter.WriteParameterStatus(hello, "is_superuser", _consoleAdmin ? "on" : "off");
        BackendMessageWriter.WriteBackendKeyData(hello, CancelProcessId, CancelKey);
        BackendMessageWriter.WriteReadyForQuery(hello, TransactionStatus.Idle);
        await WriteToClientAsync(hello.WrittenMemory).ConfigureAwait(false);
        State = ClientState.Idle;
        Pooler.CountLogin();
        return true;
    }

    /// <summary>The console's read loop: one command at a time, answered before the next is read.</summary>
    private async Task ServeConsoleAsync()
    {
        var console = new AdminConsole(Pooler);
        using var reader = new LoginReader(Transport);
        reader.Prepend(_initialBuffer, _initialCount);
        _initialBuffer = null;
        var extended = new ConsoleExtendedState();
        var output = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            byte? code;
            try
            {
                code = await reader.ReadMessageAsync(Pooler.Stopping).ConfigureAwait(false);
            }
            catch (InvalidDataException e)
            {
                await SendFatalAsync(SqlState.ProtocolViolation, e.Message).ConfigureAwait(false);
                return;
            }

            if (code is null or FrontendMessageCode.Terminate)
            {
                return;
            }

            LastActivityAt = Pooler.Time.GetTimestamp();
            output.ResetWrittenCount();
            var payload = reader.Payload;
            if (code == FrontendMessageCode.Query)
            {
                if (!FrontendMessageReader.TryReadQuery(payload.Span, out var query))
                {
                    await SendFatalAsync(SqlState.ProtocolViolation, "invalid Query message").ConfigureAwait(false);
                    return;
                }

                await RunConsoleQueryAsync(console, query, output).ConfigureAwait(false);
                BackendMessageWriter.WriteReadyForQuery(output, TransactionStatus.Idle);
            }
            else if (code == FrontendMessageCode.Sync)
            {
                extended.SkipUntilSync = false;
                BackendMessageWriter.WriteReadyForQuery(output, TransactionStatus.Idle);
            }
            else if (code == FrontendMessageCode.Flush)
            {
                // Answers are written as they are produced.
            }
            else if (!extended.SkipUntilSync)
            {
                await HandleConsoleExtendedAsync(console, extended, code.Value, payload, output).ConfigureAwait(false);
            }

            if (output.WrittenCount > 0)
            {
                await WriteToClientAsync(output.WrittenMemory).ConfigureAwait(false);
            }
        }
    }

    private async Task RunConsoleQueryAsync(AdminConsole console, string query, ArrayBufferWriter<byte> output)
    {
        if (query.Trim().Length == 0)
        {
            BackendMessageWriter.WriteEmptyQueryResponse(output);
            return;
        }

        var reply = await console.ExecuteAsync(query, _consoleAdmin, Pooler.Stopping).ConfigureAwait(false);
        WriteConsoleReply(reply, output, describe: true, formats: default);
    }

    private static void WriteConsoleReply(ConsoleReply reply, ArrayBufferWriter<byte> output, bool describe, ReadOnlySpan<short> formats)
    {
        if (reply.IsError)
        {
            BackendMessageWriter.WriteErrorResponse(output, ErrorSeverity.Error, reply.ErrorSqlState!, reply.ErrorMessage!, hint: reply.ErrorHint);
            return;
        }

        if (reply.NoticeMessage is not null)
        {
            BackendMessageWriter.WriteNoticeResponse(output, ErrorSeverity.Notice, SqlState.SuccessfulCompletion, reply.NoticeMessage, reply.NoticeDetail);
        }

        if (reply.Table is { } table)
        {
            if (describe)
            {
                table.WriteDescription(output, formats);
            }

            table.WriteRows(output, formats);
        }

        BackendMessageWriter.WriteCommandComplete(output, reply.Tag ?? "SHOW");
    }

    /// <summary>Parse, Bind, Describe, Execute and Close for parameterless console commands; anything else is an error,
    /// after which messages are skipped until Sync, as PostgreSQL does.</summary>
    private async Task HandleConsoleExtendedAsync(
        AdminConsole console, ConsoleExtendedState state, byte code, ReadOnlyMemory<byte> payload, ArrayBufferWriter<byte> output)
    {
        string? error = null;
        switch (code)
        {
            case FrontendMessageCode.Parse:
                if (!FrontendMessageReader.TryReadParse(payload.Span, out var name, out var query, out var types))
                {
                    error = "invalid Parse message";
                }
                else if (types.Length > 0 || query.Contains('$', StringComparison.Ordinal))
                {
                    error = "the admin console takes no parameters";
                }
                else
                {
                    state.Statements[name] = query;
                    output.Write(ParseComplete);
                }

                break;
            case FrontendMessageCode.Bind:
                if (!ConsoleExtendedState.TryReadBind(payload.Span, out var portal, out var statement, out var formats))
                {
                    error = "invalid Bind message, or parameters given (the admin console takes none)";
                }
                else if (!state.Statements.TryGetValue(statement, out var bound))
                {
                    error = $"prepared statement \"{statement}\" does not exist";
                }
                else
                {
                    state.Portals[portal] = new ConsolePortal(bound, formats);
                    output.Write(BindComplete);
                }

                break;
            case FrontendMessageCode.Describe:
                if (!FrontendMessageReader.TryReadTarget(payload.Span, out var target, out var described))
                {
                    error = "invalid Describe message";
                }
                else if (target == FrontendMessageCode.TargetStatement)
                {
                    if (!state.Statements.TryGetValue(described, out var text))
                    {
                        error = $"prepared statement \"{described}\" does not exist";
                        break;
                    }

                    output.Write(NoParameters);
                    await DescribeAsync(console, text, output, default, null).ConfigureAwait(false);
                }
                else if (!state.Portals.TryGetValue(described, out var describedPortal))
                {
                    error = $"portal \"{described}\" does not exist";
                }
                else
                {
                    await DescribeAsync(console, describedPortal.Query, output, describedPortal.Formats, describedPortal).ConfigureAwait(false);
                }

                break;
            case FrontendMessageCode.Execute:
                if (!FrontendMessageReader.TryReadExecute(payload.Span, out var executed, out _))
                {
                    error = "invalid Execute message";
                }
                else if (!state.Portals.TryGetValue(executed, out var executedPortal))
                {
                    error = $"portal \"{executed}\" does not exist";
                }
                else
                {
                    var reply = executedPortal.Result ?? await console.ExecuteAsync(executedPortal.Query, _consoleAdmin, Pooler.Stopping).ConfigureAwait(false);
                    executedPortal.Result = null;
                    WriteConsoleReply(reply, output, describe: false, executedPortal.Formats);
                    state.SkipUntilSync = reply.IsError;
                }

                break;
            case FrontendMessageCode.Close:
                if (FrontendMessageReader.TryReadTarget(payload.Span, out var closeTarget, out var closed))
                {
                    if (closeTarget == FrontendMessageCode.TargetStatement)
                    {
                        state.Statements.Remove(closed);
                    }
                    else
                    {
                        state.Portals.Remove(closed);
                    }

                    output.Write(CloseComplete);
                }
                else
                {
                    error = "invalid Close message";
                }

                break;
            default:
                error = $"message type '{(char)code}' is not supported by the admin console (use simple or extended query messages)";
                break;
        }

        if (error is not null)
        {
            BackendMessageWriter.WriteErrorResponse(output, ErrorSeverity.Error, SqlState.ProtocolViolation, error);
            state.SkipUntilSync = true;
        }
    }

    /// <summary>Describe: SHOW commands run now (they only read) so their columns can be told; the portal keeps the rows
    /// for Execute. Other commands return no rows (NoData) and run at Execute.</summary>
    private async Task DescribeAsync(AdminConsole console, string query, ArrayBufferWriter<byte> output, short[]? formats, ConsolePortal? portal)
    {
        if (!AdminConsole.IsReadOnly(query))
        {
            output.Write(NoData);
            return;
        }

        var reply = await console.ExecuteAsync(query, _consoleAdmin, Pooler.Stopping).ConfigureAwait(false);
        if (reply.Table is { } table)
        {
            table.WriteDescription(output, formats);
        }
        else
        {
            output.Write(NoData);
        }

        if (portal is not null)
        {
            portal.Result = reply;
        }
    }

    private static readonly byte[] ParseComplete = [BackendMessageCode.ParseComplete, 0, 0, 0, 4];
    private static readonly byte[] BindComplete = [BackendMessageCode.BindComplete, 0, 0, 0, 4];
    private static readonly byte[] CloseComplete = [BackendMessageCode.CloseComplete, 0, 0, 0, 4];
    private static readonly byte[] NoData = [BackendMessageCode.NoData, 0, 0, 0, 4];
    private static readonly byte[] NoParameters = [BackendMessageCode.ParameterDescription, 0, 0, 0, 6, 0, 0];
}
