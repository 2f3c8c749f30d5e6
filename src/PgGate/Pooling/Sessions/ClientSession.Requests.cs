using System.Buffers;
using System.Buffers.Binary;
using PgGate.Pooling.Statements;
using PgGate.Protocol;

namespace PgGate.Pooling.Sessions;

internal enum RequestStepKind : byte
{
    /// <summary>Everything received was handled.</summary>
    Done,

    /// <summary>A message is incomplete; read more (see <c>_neededBufferSize</c> for one larger than the buffer).</summary>
    NeedMoreData,

    /// <summary>The next message needs a server and none is linked.</summary>
    NeedServer,

    /// <summary>Send <see cref="RequestStep.Reply"/> to the client, then go on.</summary>
    Reply,

    /// <summary>A Sync arrived while nothing is open and no server is linked: answer ReadyForQuery locally.</summary>
    LocalReadyForQuery,

    Terminate,

    /// <summary>The client broke the protocol: FATAL error, then close.</summary>
    Fatal,
}

internal readonly record struct RequestStep(RequestStepKind Kind, string? SqlState = null, string? Message = null, byte[]? Reply = null)
{
    public static RequestStep Done => new(RequestStepKind.Done);

    public static RequestStep NeedMore => new(RequestStepKind.NeedMoreData);

    public static RequestStep Fatal(string sqlState, string message) => new(RequestStepKind.Fatal, sqlState, message);
}

/// <summary>
/// The client's messages on their way to the server. Messages pass unchanged except where transaction pooling needs
/// otherwise: named prepared statements are renamed to the pooler's shared names and prepared on demand on whichever
/// server the client has now, Close of a statement is answered without closing the shared one, and the client's
/// unnamed statement is re-prepared if its Bind lands on a server that does not hold it.
/// </summary>
internal sealed partial class ClientSession
{
    /// <summary>A statement name never prepared anywhere: closing it costs nothing and yields a CloseComplete that stands
    /// in for an answer the pooler must give in order (ParseComplete for a Parse the server already has).</summary>
    private static ReadOnlySpan<byte> NoopStatementName => "PGGATE_NOOP"u8;

    /// <summary>Handles messages from <paramref name="position"/>; stops at one needing a server or more data. Under <see cref="Gate"/>.</summary>
    private RequestStep ProcessRequests(byte[] buffer, ref int position, int end)
    {
        _neededBufferSize = 0;
        long now = 0;
        while (position < end)
        {
            if (_forwardRemaining > 0)
            {
                var take = Math.Min(_forwardRemaining, end - position);
                if (!_forwardDrop)
                {
                    _toServer.Pass(buffer, position, take);
                    _sendingToServer = true;
                }

                position += take;
                _forwardRemaining -= take;
                continue;
            }

            if (end - position < ProtocolConstants.MessageHeaderLength)
            {
                return RequestStep.NeedMore;
            }

            var code = buffer[position];
            var length = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(position + 1));
            if (!IsFrontendMessage(code))
            {
                return RequestStep.Fatal(SqlState.ProtocolViolation,
                    $"invalid frontend message type {code} ('{DescribeCode(code)}'); the connection is out of step with the protocol");
            }

            if (length < 4)
            {
                return RequestStep.Fatal(SqlState.ProtocolViolation, $"invalid message length {length} in a '{(char)code}' message");
            }

            var maxPacket = Pooler.Settings.MaxPacketSize;
            if ((long)length + 1 > maxPacket)
            {
                return RequestStep.Fatal(SqlState.ProtocolViolation,
                    $"a '{(char)code}' message of {length + 1L} bytes exceeds max_packet_size ({maxPacket} bytes)");
            }

            var frame = length + 1;
            if (code == FrontendMessageCode.Terminate)
            {
                position += Math.Min(frame, end - position);
                return new RequestStep(RequestStepKind.Terminate);
            }

            if (_skipUntilSync)
            {
                if (code != FrontendMessageCode.Sync)
                {
                    DropMessage(buffer, ref position, end, frame);
                    continue;
                }

                _skipUntilSync = false;
                if (_server is null)
                {
                    if (end - position < frame)
                    {
                        _skipUntilSync = true;
                        return RequestStep.NeedMore;
                    }

                    position += frame;
                    return new RequestStep(RequestStepKind.LocalReadyForQuery);
                }
            }

            var server = _server;
            if (server is null)
            {
                if (_pendingFailure is { } failure)
                {
                    _pendingFailure = null;
                    return AnswerWithFailure(failure, code, buffer, ref position, end, frame);
                }

                if (code == FrontendMessageCode.Sync && !_extendedOpen)
                {
                    if (end - position < frame)
                    {
                        return RequestStep.NeedMore;
                    }

                    position += frame;
                    return new RequestStep(RequestStepKind.LocalReadyForQuery);
                }

                if (code == FrontendMessageCode.Flush && !_extendedOpen)
                {
                    DropMessage(buffer, ref position, end, frame);
                    continue;
                }

                return new RequestStep(RequestStepKind.NeedServer);
            }

            switch (code)
            {
                case FrontendMessageCode.Query:
                    StartRequest(ref now, server);
                    server.Requests.Enqueue(RequestKind.Query);
                    ForgetUnnamed(server);
                    Forward(buffer, ref position, end, frame);
                    break;
                case FrontendMessageCode.Sync:
                    StartRequest(ref now, server);
                    server.Requests.Enqueue(RequestKind.Sync);
                    _extendedOpen = false;
                    Forward(buffer, ref position, end, frame);
                    break;
                case FrontendMessageCode.Execute:
                    _extendedOpen = true;
                    server.Requests.Enqueue(RequestKind.Execute);
                    Forward(buffer, ref position, end, frame);
                    break;
                case FrontendMessageCode.FunctionCall:
                    StartRequest(ref now, server);
                    server.Requests.Enqueue(RequestKind.FunctionCall);
                    Forward(buffer, ref position, end, frame);
                    break;
                case FrontendMessageCode.Flush:
                    Forward(buffer, ref position, end, frame);
                    break;
                case FrontendMessageCode.CopyData:
                case FrontendMessageCode.CopyDone:
                case FrontendMessageCode.CopyFail:
                    Forward(buffer, ref position, end, frame);
                    break;
                case FrontendMessageCode.Parse:
                case FrontendMessageCode.Describe:
                case FrontendMessageCode.Close:
                    if (end - position < frame)
                    {
                        _neededBufferSize = frame;
                        return RequestStep.NeedMore;
                    }

                    _extendedOpen = true;
                    var step = code switch
                    {
                        FrontendMessageCode.Parse => OnParse(server, buffer, position, frame),
                        FrontendMessageCode.Describe => OnDescribe(server, buffer, position, frame),
                        _ => OnClose(server, buffer, position, frame),
                    };
                    if (step.Kind != RequestStepKind.Done)
                    {
                        return step;
                    }

                    position += frame;
                    break;
                case FrontendMessageCode.Bind:
                    var bind = OnBind(server, buffer, ref position, end, frame);
                    if (bind.Kind != RequestStepKind.Done)
                    {
                        return bind;
                    }

                    break;
                default:
                    return RequestStep.Fatal(SqlState.ProtocolViolation,
                        $"unexpected message type '{(char)code}' after login; password messages belong to authentication");
            }
        }

        return RequestStep.Done;
    }

    private static bool IsFrontendMessage(byte code) => code is FrontendMessageCode.Query or FrontendMessageCode.Parse
        or FrontendMessageCode.Bind or FrontendMessageCode.Describe or FrontendMessageCode.Execute or FrontendMessageCode.Close
        or FrontendMessageCode.Sync or FrontendMessageCode.Flush or FrontendMessageCode.FunctionCall or FrontendMessageCode.CopyData
        or FrontendMessageCode.CopyDone or FrontendMessageCode.CopyFail or FrontendMessageCode.Terminate or FrontendMessageCode.Password;

    private static string DescribeCode(byte code) => code is >= 0x20 and < 0x7F ? ((char)code).ToString() : $"0x{code:X2}";

    private void StartRequest(ref long now, ServerConnection server)
    {
        if (now == 0)
        {
            now = Pooler.Time.GetTimestamp();
        }

        if (_requestStartedAt == 0)
        {
            _requestStartedAt = now;
        }

        if (_transactionStartedAt == 0 && server.TransactionStatus == TransactionStatus.Idle)
        {
            _transactionStartedAt = now;
        }
    }

    private void Forward(byte[] buffer, ref int position, int end, int frame)
    {
        var available = Math.Min(frame, end - position);
        _toServer.Pass(buffer, position, available);
        _sendingToServer = true;
        position += available;
        _forwardRemaining = frame - available;
        _forwardDrop = false;
    }

    private void DropMessage(byte[] buffer, ref int position, int end, int frame)
    {
        _ = buffer;
        var available = Math.Min(frame, end - position);
        position += available;
        _forwardRemaining = frame - available;
        _forwardDrop = true;
    }

    /// <summary>No server could be had for this request: answer it with the error, the way PostgreSQL answers a failed
    /// request, so that the client stays connected and in step.</summary>
    private RequestStep AnswerWithFailure(
        (string SqlState, string Message, string? Detail) failure, byte code, byte[] buffer, ref int position, int end, int frame)
    {
        var reply = new ArrayBufferWriter<byte>(256);
        BackendMessageWriter.WriteErrorResponse(reply, ErrorSeverity.Error, failure.SqlState, failure.Message, failure.Detail);
        DropMessage(buffer, ref position, end, frame);
        if (code is FrontendMessageCode.Query or FrontendMessageCode.FunctionCall)
        {
            BackendMessageWriter.WriteReadyForQuery(reply, TransactionStatus.Idle);
        }
        else if (code == FrontendMessageCode.Sync)
        {
            BackendMessageWriter.WriteReadyForQuery(reply, TransactionStatus.Idle);
            _extendedOpen = false;
        }
        else
        {
            // Extended protocol: the rest of the batch is skipped up to Sync, which gets ReadyForQuery.
            _skipUntilSync = true;
            _extendedOpen = false;
        }

        return new RequestStep(RequestStepKind.Reply, Reply: reply.WrittenSpan.ToArray());
    }

    private RequestStep OnParse(ServerConnection server, byte[] buffer, int position, int frame)
    {
        var payload = buffer.AsSpan(position + ProtocolConstants.MessageHeaderLength, frame - ProtocolConstants.MessageHeaderLength);
        var nameEnd = payload.IndexOf((byte)0);
        var body = nameEnd < 0 ? default : payload.Slice(nameEnd + 1);
        var queryEnd = body.IndexOf((byte)0);
        if (nameEnd < 0 || queryEnd < 0 || body.Length - queryEnd - 1 < 2)
        {
            return RequestStep.Fatal(SqlState.ProtocolViolation, "malformed Parse message: the statement name, query or parameter count is missing");
        }

        var name = payload.Slice(0, nameEnd);
        if (!TrackStatements)
        {
            server.Requests.Enqueue(RequestKind.Parse);
            PassWhole(buffer, position, frame);
            return RequestStep.Done;
        }

        if (name.IsEmpty)
        {
            // Remember the unnamed statement: a later Bind may land on a server that does not have it.
            if (_unnamedBody is null || _unnamedBody.Length < body.Length)
            {
                _unnamedBody = new byte[Math.Max(body.Length, 64)];
            }

            body.CopyTo(_unnamedBody);
            _unnamedBodyLength = body.Length;
            server.UnnamedOwner = this;
            server.Requests.Enqueue(RequestKind.Parse, ResponseAction.Forward, UnnamedParseMarker.Instance);
            PassWhole(buffer, position, frame);
            return RequestStep.Done;
        }

        _statements ??= new ClientStatementMap();
        if (_statements.Find(name) is not null)
        {
            // PostgreSQL refuses a name in use; the refusal must arrive in order, so it rides on a no-op round trip.
            var error = new ArrayBufferWriter<byte>(128);
            BackendMessageWriter.WriteErrorResponse(error, ErrorSeverity.Error, "42P05",
                $"prepared statement \"{System.Text.Encoding.UTF8.GetString(name)}\" already exists");
            WriteClose(_toServer, FrontendMessageCode.TargetStatement, NoopStatementName);
            server.Requests.Enqueue(RequestKind.Close, ResponseAction.AnswerError, error.WrittenSpan.ToArray());
            _sendingToServer = true;
            _skipUntilSync = true;
            return RequestStep.Done;
        }

        var statement = Pooler.Statements.Acquire(body);
        var clientName = name.ToArray();
        _statements.Add(clientName, statement);
        var cache = server.Statements!;
        if (cache.Touch(statement))
        {
            WriteClose(_toServer, FrontendMessageCode.TargetStatement, NoopStatementName);
            server.Requests.Enqueue(RequestKind.Close, ResponseAction.AnswerParseComplete, new ParseTracking(statement, clientName, preparedHere: false));
        }
        else
        {
            PrepareOnServer(server, statement, clientName, ResponseAction.Forward);
        }

        _sendingToServer = true;
        return RequestStep.Done;
    }

    /// <summary>Prepares <paramref name="statement"/> on the linked server under its shared name, evicting the least
    /// recently used one first when the server holds max_prepared_statements already.</summary>
    private void PrepareOnServer(ServerConnection server, PreparedStatement statement, byte[]? clientName, ResponseAction action)
    {
        var evicted = server.Statements!.Add(statement);
        if (evicted is not null)
        {
            WriteClose(_toServer, FrontendMessageCode.TargetStatement, evicted.ServerName);
            server.Requests.Enqueue(RequestKind.Close, ResponseAction.Swallow);
        }

        var body = statement.Body;
        var name = statement.ServerName;
        var span = _toServer.GetSpan(ProtocolConstants.MessageHeaderLength + name.Length + 1 + body.Length);
        span[0] = FrontendMessageCode.Parse;
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(1), 4 + name.Length + 1 + body.Length);
        name.CopyTo(span.Slice(5));
        span[5 + name.Length] = 0;
        body.CopyTo(span.Slice(6 + name.Length));
        _toServer.Advance(ProtocolConstants.MessageHeaderLength + name.Length + 1 + body.Length);
        server.Requests.Enqueue(RequestKind.Parse, action, new ParseTracking(statement, clientName, preparedHere: true));
        _sendingToServer = true;
    }

    private void EnsurePrepared(ServerConnection server, PreparedStatement statement)
    {
        if (!server.Statements!.Touch(statement))
        {
            PrepareOnServer(server, statement, null, ResponseAction.Swallow);
        }
    }

    /// <summary>The client's unnamed statement must be on this server before a Bind or Describe that uses it.</summary>
    private void EnsureUnnamed(ServerConnection server)
    {
        if (ReferenceEquals(server.UnnamedOwner, this) || _unnamedBodyLength < 0 || _unnamedBody is null)
        {
            return;
        }

        var span = _toServer.GetSpan(ProtocolConstants.MessageHeaderLength + 1 + _unnamedBodyLength);
        span[0] = FrontendMessageCode.Parse;
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(1), 4 + 1 + _unnamedBodyLength);
        span[5] = 0;
        _unnamedBody.AsSpan(0, _unnamedBodyLength).CopyTo(span.Slice(6));
        _toServer.Advance(ProtocolConstants.MessageHeaderLength + 1 + _unnamedBodyLength);
        server.Requests.Enqueue(RequestKind.Parse, ResponseAction.Swallow, UnnamedParseMarker.Instance);
        server.UnnamedOwner = this;
        _sendingToServer = true;
    }

    private void ForgetUnnamed(ServerConnection server)
    {
        // A simple query destroys the unnamed statement, on the server and so for the client.
        if (ReferenceEquals(server.UnnamedOwner, this))
        {
            server.UnnamedOwner = null;
        }

        _unnamedBodyLength = -1;
    }

    private RequestStep OnBind(ServerConnection server, byte[] buffer, ref int position, int end, int frame)
    {
        _extendedOpen = true;
        server.Requests.Enqueue(RequestKind.Bind);
        if (!TrackStatements)
        {
            Forward(buffer, ref position, end, frame);
            return RequestStep.Done;
        }

        // Only the portal and statement names matter; the parameters (possibly megabytes) stream through.
        var payloadStart = position + ProtocolConstants.MessageHeaderLength;
        var available = buffer.AsSpan(payloadStart, Math.Min(end, position + frame) - payloadStart);
        var portalEnd = available.IndexOf((byte)0);
        var statementEnd = portalEnd < 0 ? -1 : available.Slice(portalEnd + 1).IndexOf((byte)0);
        if (statementEnd < 0)
        {
            server.Requests.RemoveLast();
            if (available.Length == frame - ProtocolConstants.MessageHeaderLength)
            {
                return RequestStep.Fatal(SqlState.ProtocolViolation, "malformed Bind message: the portal or statement name is not terminated");
            }

            _neededBufferSize = Math.Min(frame, Math.Max(buffer.Length * 2, 16 * 1024));
            return RequestStep.NeedMore;
        }

        var statementName = available.Slice(portalEnd + 1, statementEnd);
        if (statementName.IsEmpty)
        {
            EnsureUnnamed(server);
            Forward(buffer, ref position, end, frame);
            return RequestStep.Done;
        }

        var statement = _statements?.Find(statementName);
        if (statement is null)
        {
            // Unknown to the pooler: the server answers "prepared statement ... does not exist", as it should.
            Forward(buffer, ref position, end, frame);
            return RequestStep.Done;
        }

        // The Bind entry must follow the injected Parse in the queue: re-enqueue it after EnsurePrepared.
        server.Requests.RemoveLast();
        EnsurePrepared(server, statement);
        server.Requests.Enqueue(RequestKind.Bind);
        var serverName = statement.ServerName;
        var headerAndPortal = ProtocolConstants.MessageHeaderLength + portalEnd + 1;
        var newLength = frame - 1 - statementName.Length + serverName.Length;
        var span = _toServer.GetSpan(headerAndPortal + serverName.Length + 1);
        span[0] = FrontendMessageCode.Bind;
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(1), newLength);
        available.Slice(0, portalEnd + 1).CopyTo(span.Slice(ProtocolConstants.MessageHeaderLength));
        serverName.CopyTo(span.Slice(headerAndPortal));
        span[headerAndPortal + serverName.Length] = 0;
        _toServer.Advance(headerAndPortal + serverName.Length + 1);
        _sendingToServer = true;

        var restStart = payloadStart + portalEnd + 1 + statementEnd + 1;
        var messageEnd = position + frame;
        var restAvailable = Math.Min(end, messageEnd) - restStart;
        _toServer.Pass(buffer, restStart, restAvailable);
        position = restStart + restAvailable;
        _forwardRemaining = messageEnd - position;
        _forwardDrop = false;
        return RequestStep.Done;
    }

    private RequestStep OnDescribe(ServerConnection server, byte[] buffer, int position, int frame)
    {
        var payload = buffer.AsSpan(position + ProtocolConstants.MessageHeaderLength, frame - ProtocolConstants.MessageHeaderLength);
        if (payload.Length < 2 || payload[^1] != 0)
        {
            return RequestStep.Fatal(SqlState.ProtocolViolation, "malformed Describe message");
        }

        var target = payload[0];
        var name = payload.Slice(1, payload.Length - 2);
        if (TrackStatements && target == FrontendMessageCode.TargetStatement)
        {
            if (name.IsEmpty)
            {
                EnsureUnnamed(server);
            }
            else if (_statements?.Find(name) is { } statement)
            {
                EnsurePrepared(server, statement);
                server.Requests.Enqueue(RequestKind.Describe);
                WriteTargetMessage(_toServer, FrontendMessageCode.Describe, target, statement.ServerName);
                _sendingToServer = true;
                return RequestStep.Done;
            }
        }

        server.Requests.Enqueue(RequestKind.Describe);
        PassWhole(buffer, position, frame);
        return RequestStep.Done;
    }

    private RequestStep OnClose(ServerConnection server, byte[] buffer, int position, int frame)
    {
        var payload = buffer.AsSpan(position + ProtocolConstants.MessageHeaderLength, frame - ProtocolConstants.MessageHeaderLength);
        if (payload.Length < 2 || payload[^1] != 0)
        {
            return RequestStep.Fatal(SqlState.ProtocolViolation, "malformed Close message");
        }

        var target = payload[0];
        var name = payload.Slice(1, payload.Length - 2);
        server.Requests.Enqueue(RequestKind.Close);
        if (TrackStatements && target == FrontendMessageCode.TargetStatement)
        {
            if (name.IsEmpty)
            {
                if (ReferenceEquals(server.UnnamedOwner, this))
                {
                    server.UnnamedOwner = null;
                }

                _unnamedBodyLength = -1;
            }
            else
            {
                // The shared statement stays on servers for other clients; the client just forgets its name.
                if (_statements?.Remove(name) is { } statement)
                {
                    Pooler.Statements.Release(statement);
                }

                WriteClose(_toServer, FrontendMessageCode.TargetStatement, NoopStatementName);
                _sendingToServer = true;
                return RequestStep.Done;
            }
        }

        PassWhole(buffer, position, frame);
        return RequestStep.Done;
    }

    private void PassWhole(byte[] buffer, int position, int frame)
    {
        _toServer.Pass(buffer, position, frame);
        _sendingToServer = true;
    }

    private static void WriteClose(OutboundBuffer output, byte target, ReadOnlySpan<byte> name) =>
        WriteTargetMessage(output, FrontendMessageCode.Close, target, name);

    private static void WriteTargetMessage(OutboundBuffer output, byte code, byte target, ReadOnlySpan<byte> name)
    {
        var span = output.GetSpan(ProtocolConstants.MessageHeaderLength + 1 + name.Length + 1);
        span[0] = code;
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(1), 4 + 1 + name.Length + 1);
        span[5] = target;
        name.CopyTo(span.Slice(6));
        span[6 + name.Length] = 0;
        output.Advance(ProtocolConstants.MessageHeaderLength + 1 + name.Length + 1);
    }

    /// <summary>A named Parse failed or was skipped by the server: the client has no such statement after all.</summary>
    internal void ForgetFailedParse(ParseTracking tracking)
    {
        if (tracking.ClientName is null || _statements is null)
        {
            return;
        }

        if (ReferenceEquals(_statements.Find(tracking.ClientName), tracking.Statement) && _statements.Remove(tracking.ClientName) is { } removed)
        {
            Pooler.Statements.Release(removed);
        }
    }

    /// <summary>The client ran DISCARD ALL or DEALLOCATE ALL: its statements are gone.</summary>
    internal void OnStatementsDiscarded()
    {
        _statements?.Clear(Pooler.Statements);
        _unnamedBodyLength = -1;
    }
}
