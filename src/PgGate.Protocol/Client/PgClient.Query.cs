namespace PgGate.Protocol.Client;

/// <summary>Simple and parameterised queries, and the messages any operation may meet.</summary>
public sealed partial class PgClient
{
    /// <summary>
    /// Runs <paramref name="sql"/> with the simple query protocol (it may hold several statements) and returns one
    /// result set per statement that completed. A failing statement raises <see cref="PgServerException"/> once the
    /// server is ready again, so the connection stays usable.
    /// </summary>
    public async Task<IReadOnlyList<PgResultSet>> QueryAsync(string sql, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sql);
        EnterOperation();
        try
        {
            FrontendMessageWriter.WriteQuery(_writeBuffer, sql);
            await FlushAsync(cancellationToken).ConfigureAwait(false);
            return await ReadResultsAsync(extended: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not PgServerException)
        {
            Abort();
            throw;
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>
    /// Runs one statement with text parameters ($1, $2...; null is SQL NULL) through the extended query protocol,
    /// so values never need quoting (auth_query's user name, for instance).
    /// </summary>
    public async Task<PgResultSet> QueryAsync(string sql, IReadOnlyList<string?> parameters, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(parameters);
        EnterOperation();
        try
        {
            var values = new string?[parameters.Count];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = parameters[i];
            }

            FrontendMessageWriter.WriteParse(_writeBuffer, string.Empty, sql);
            FrontendMessageWriter.WriteBind(_writeBuffer, string.Empty, string.Empty, values);
            FrontendMessageWriter.WriteDescribe(_writeBuffer, FrontendMessageCode.TargetPortal, string.Empty);
            FrontendMessageWriter.WriteExecute(_writeBuffer, string.Empty);
            FrontendMessageWriter.WriteSync(_writeBuffer);
            await FlushAsync(cancellationToken).ConfigureAwait(false);
            var results = await ReadResultsAsync(extended: true, cancellationToken).ConfigureAwait(false);
            return results[0];
        }
        catch (Exception e) when (e is not PgServerException)
        {
            Abort();
            throw;
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private async Task<List<PgResultSet>> ReadResultsAsync(bool extended, CancellationToken cancellationToken)
    {
        var results = new List<PgResultSet>(1);
        PgColumn[]? columns = null;
        List<string?[]>? rows = null;
        PgServerException? error = null;
        while (true)
        {
            MessageHeader header;
            try
            {
                header = await ReadMessageAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PgConnectionException) when (error is not null)
            {
                // A FATAL error (e.g. admin_shutdown) is followed by the server closing the connection: report the error.
                Abort();
                throw error;
            }

            switch (header.Code)
            {
                case BackendMessageCode.RowDescription:
                    if (!BackendMessageReader.TryReadRowDescription(Payload, out columns))
                    {
                        throw Malformed(header.Code);
                    }

                    rows = [];
                    break;
                case BackendMessageCode.DataRow:
                    if (rows is null || !BackendMessageReader.TryReadDataRow(Payload, out var values))
                    {
                        throw rows is null ? Unexpected(header.Code, "before RowDescription") : Malformed(header.Code);
                    }

                    rows.Add(values);
                    break;
                case BackendMessageCode.CommandComplete:
                    if (!BackendMessageReader.TryReadCommandComplete(Payload, out var tag))
                    {
                        throw Malformed(header.Code);
                    }

                    results.Add(new PgResultSet(columns ?? [], (IReadOnlyList<string?[]>?)rows ?? [], tag));
                    columns = null;
                    rows = null;
                    break;
                case BackendMessageCode.EmptyQueryResponse:
                case BackendMessageCode.PortalSuspended:
                    if (extended)
                    {
                        results.Add(new PgResultSet(columns ?? [], (IReadOnlyList<string?[]>?)rows ?? [], string.Empty));
                    }

                    columns = null;
                    rows = null;
                    break;
                case BackendMessageCode.ParseComplete:
                case BackendMessageCode.BindComplete:
                case BackendMessageCode.NoData when extended:
                case BackendMessageCode.NotificationResponse:
                    break;
                case BackendMessageCode.ErrorResponse:
                    error = ServerError(header.Code);
                    break;
                case BackendMessageCode.NoticeResponse:
                    HandleNotice();
                    break;
                case BackendMessageCode.ParameterStatus:
                    HandleParameterStatus();
                    break;
                case BackendMessageCode.CopyInResponse:
                    // COPY FROM STDIN has no data source here: refuse it so the server ends the statement with an error.
                    FrontendMessageWriter.WriteCopyFail(_writeBuffer, "COPY FROM STDIN is not supported by PgGate's probe client");
                    await FlushAsync(cancellationToken).ConfigureAwait(false);
                    break;
                case BackendMessageCode.CopyOutResponse:
                case BackendMessageCode.CopyData:
                case BackendMessageCode.CopyDone:
                    // COPY TO STDOUT data is not collected; CommandComplete follows.
                    break;
                case BackendMessageCode.ReadyForQuery:
                    HandleReadyForQuery(header.Code);
                    if (error is not null)
                    {
                        throw error;
                    }

                    if (extended && results.Count == 0)
                    {
                        throw new PgProtocolException($"PostgreSQL at {RemoteEndPoint} completed a query without a result or an error.");
                    }

                    return results;
                default:
                    throw Unexpected(header.Code, "while reading query results");
            }
        }
    }

    private void EnterOperation()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_broken)
        {
            throw new PgConnectionException($"The connection to PostgreSQL at {RemoteEndPoint} is broken (an earlier operation failed or was cancelled); open a new one.");
        }

        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            throw new InvalidOperationException("PgClient runs one operation at a time; wait for the previous one to finish.");
        }
    }

    private void HandleParameterStatus()
    {
        if (!BackendMessageReader.TryReadParameterStatus(Payload, out var name, out var value))
        {
            throw Malformed(BackendMessageCode.ParameterStatus);
        }

        _serverParameters[name] = value;
    }

    private void HandleNotice()
    {
        if (_options.NoticeHandler is { } handler && BackendMessageReader.TryReadErrorFields(Payload, out var notice))
        {
            handler(notice);
        }
    }

    private void HandleReadyForQuery(byte code)
    {
        if (!BackendMessageReader.TryReadReadyForQuery(Payload, out var status))
        {
            throw Malformed(code);
        }

        TransactionStatus = status;
    }

    private PgServerException ServerError(byte code) =>
        BackendMessageReader.TryReadErrorFields(Payload, out var fields) ? new PgServerException(fields) : throw Malformed(code);

    private PgProtocolException Malformed(byte code) =>
        new($"PostgreSQL at {RemoteEndPoint} sent a malformed '{(char)code}' message ({Payload.Length} bytes).");

    private PgProtocolException Unexpected(byte code, string when) =>
        new($"PostgreSQL at {RemoteEndPoint} sent an unexpected '{(char)code}' message {when}.");
}
