using System.Buffers.Binary;
using PgGate.Pooling.Statements;
using PgGate.Protocol;

namespace PgGate.Pooling.Sessions;

/// <summary>
/// Matching the server's messages to the requests in <see cref="Requests"/>. Only message types that end a request or
/// carry state are read whole; row data, copy data, errors and notices stream through in whatever pieces they arrive,
/// so no result is ever buffered in full.
/// </summary>
internal sealed partial class ServerConnection
{
    private static ReadOnlySpan<byte> DiscardAllTag => "DISCARD ALL"u8;

    private static ReadOnlySpan<byte> DeallocateAllTag => "DEALLOCATE ALL"u8;

    // The message being streamed through: bytes still to come and whether they go to the client.
    private int _messageRemaining;
    private bool _messageForwarded;
    private int _neededBufferSize;

    /// <summary>
    /// Processes the messages in <paramref name="buffer"/>[<paramref name="start"/>..<paramref name="end"/>) for the
    /// linked <paramref name="client"/> (null while resetting or idle), writing what the client must see into
    /// <paramref name="output"/>. Returns the bytes consumed; a partial small message is left for the next read.
    /// Runs under the client's lock.
    /// </summary>
    internal int ProcessResponses(byte[] buffer, int start, int end, ClientSession? client, OutboundBuffer output)
    {
        _neededBufferSize = 0;
        var position = start;
        while (position < end)
        {
            if (_messageRemaining > 0)
            {
                var take = Math.Min(_messageRemaining, end - position);
                if (_messageForwarded && client is not null)
                {
                    output.Pass(buffer, position, take);
                }

                position += take;
                _messageRemaining -= take;
                continue;
            }

            if (end - position < ProtocolConstants.MessageHeaderLength)
            {
                break;
            }

            var code = buffer[position];
            var length = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(position + 1));
            if (length < 4)
            {
                throw new ServerProtocolException($"the server sent a message '{(char)code}' with an invalid length {length}");
            }

            var frame = length + 1;
            if (code == BackendMessageCode.ErrorResponse && frame <= MaxInspectedErrorLength)
            {
                // A FATAL ends the server connection, not the client's: the client must not see it (Npgsql and libpq
                // would drop their connection to PgGate). The client gets the pooler's own error when the server closes.
                if (end - position < frame)
                {
                    _neededBufferSize = frame;
                    break;
                }

                if (TryReadFatal(buffer.AsSpan(position + ProtocolConstants.MessageHeaderLength, frame - ProtocolConstants.MessageHeaderLength)) is { } fatal)
                {
                    FatalError = fatal;
                    position += frame;
                    continue;
                }
            }

            if (IsStreamed(code))
            {
                var forward = OnStreamedMessage(code, client, output) && client is not null;
                var available = Math.Min(frame, end - position);
                if (forward)
                {
                    output.Pass(buffer, position, available);
                }

                position += available;
                _messageRemaining = frame - available;
                _messageForwarded = forward;
                continue;
            }

            if (end - position < frame)
            {
                _neededBufferSize = frame;
                break;
            }

            OnWholeMessage(code, buffer, position, frame, client, output);
            position += frame;
        }

        return position;
    }

    /// <summary>Error messages up to this size are read whole to see their severity (real ones are far smaller).</summary>
    private const int MaxInspectedErrorLength = 64 * 1024;

    /// <summary>The FATAL (or PANIC) the server sent before closing, as "FATAL 57P01 message"; null if none.</summary>
    public string? FatalError { get; private set; }

    /// <summary>The error's description when its severity is FATAL or PANIC; null otherwise.</summary>
    private static string? TryReadFatal(ReadOnlySpan<byte> fields)
    {
        ReadOnlySpan<byte> severity = default;
        ReadOnlySpan<byte> localized = default;
        ReadOnlySpan<byte> code = default;
        ReadOnlySpan<byte> message = default;
        while (fields.Length > 1 && fields[0] != 0)
        {
            var type = fields[0];
            var rest = fields[1..];
            var zero = rest.IndexOf((byte)0);
            if (zero < 0)
            {
                return null;
            }

            var value = rest[..zero];
            switch (type)
            {
                case (byte)'V': severity = value; break;
                case (byte)'S': localized = value; break;
                case (byte)'C': code = value; break;
                case (byte)'M': message = value; break;
            }

            fields = rest[(zero + 1)..];
        }

        if (severity.IsEmpty)
        {
            severity = localized;
        }

        if (!severity.SequenceEqual("FATAL"u8) && !severity.SequenceEqual("PANIC"u8))
        {
            return null;
        }

        return System.Text.Encoding.UTF8.GetString(severity) + " " + System.Text.Encoding.UTF8.GetString(code) + " " +
            System.Text.Encoding.UTF8.GetString(message);
    }

    /// <summary>Messages that may be large and need no inspection beyond their type.</summary>
    private static bool IsStreamed(byte code) => code is BackendMessageCode.DataRow or BackendMessageCode.CopyData
        or BackendMessageCode.ErrorResponse or BackendMessageCode.NoticeResponse or BackendMessageCode.RowDescription
        or BackendMessageCode.NotificationResponse or BackendMessageCode.FunctionCallResponse
        or BackendMessageCode.ParameterDescription;

    private bool HeadForwards => Requests.IsEmpty || Requests.Head.Action == ResponseAction.Forward;

    /// <summary>Decides, at its first byte, whether a streamed message goes to the client; completes requests it ends.</summary>
    private bool OnStreamedMessage(byte code, ClientSession? client, OutboundBuffer output)
    {
        switch (code)
        {
            case BackendMessageCode.ErrorResponse:
                return OnError(client, output);
            case BackendMessageCode.RowDescription:
                if (!Requests.IsEmpty && Requests.Head.Kind == RequestKind.Describe)
                {
                    var forward = Requests.Head.Action == ResponseAction.Forward;
                    Requests.Dequeue();
                    return forward;
                }

                return HeadForwards;
            default:
                return HeadForwards;
        }
    }

    /// <summary>An ErrorResponse: ends the current extended-protocol request and makes the server skip to Sync.</summary>
    private bool OnError(ClientSession? client, OutboundBuffer output)
    {
        if (Requests.IsEmpty)
        {
            // Unsolicited: FATAL (administrator command, idle session timeout) just before the server closes.
            return true;
        }

        ref var head = ref Requests.Head;
        if (head.EndsWithReadyForQuery)
        {
            // Part of a simple query, function call or the commit at Sync; the request ends at ReadyForQuery.
            if (head.Action == ResponseAction.Swallow)
            {
                // Our own SET, ROLLBACK or reset query failed: the connection is in a state we did not intend.
                CloseNeeded = true;
                return false;
            }

            return true;
        }

        var failed = Requests.Dequeue();
        Undo(failed, client);
        DropUntilSync(client);
        switch (failed.Action)
        {
            case ResponseAction.AnswerError:
                // The stand-in Close failed where the refused Parse would have: the client gets our error instead.
                output.Write((byte[])failed.State!);
                return false;
            default:
                // Also for injected requests: an injected Parse that fails explains why the client's Bind will not run.
                return true;
        }
    }

    private void DropUntilSync(ClientSession? client)
    {
        while (!Requests.IsEmpty && Requests.Head.Kind != RequestKind.Sync)
        {
            Undo(Requests.Dequeue(), client);
        }
    }

    /// <summary>A request failed or was skipped by the server: forget what it would have created.</summary>
    private void Undo(in PendingRequest request, ClientSession? client)
    {
        switch (request.State)
        {
            case ParseTracking tracking:
                if (tracking.PreparedHere)
                {
                    Statements?.Remove(tracking.Statement);
                }

                if (tracking.ClientName is not null && client is not null)
                {
                    client.ForgetFailedParse(tracking);
                }

                break;
            case UnnamedParseMarker when client is not null && ReferenceEquals(UnnamedOwner, client):
                UnnamedOwner = null;
                break;
        }
    }

    private void OnWholeMessage(byte code, byte[] buffer, int position, int frame, ClientSession? client, OutboundBuffer output)
    {
        var payload = buffer.AsSpan(position + ProtocolConstants.MessageHeaderLength, frame - ProtocolConstants.MessageHeaderLength);
        switch (code)
        {
            case BackendMessageCode.ReadyForQuery:
                OnReadyForQuery(buffer, position, frame, payload, client, output);
                return;
            case BackendMessageCode.ParameterStatus:
                OnParameterStatus(buffer, position, frame, payload, client, output);
                return;
            case BackendMessageCode.CommandComplete:
                if (payload.StartsWith(DiscardAllTag) || payload.StartsWith(DeallocateAllTag))
                {
                    // The server dropped every prepared statement, the pooler's and the client's alike.
                    Statements?.Clear();
                    UnnamedOwner = null;
                    client?.OnStatementsDiscarded();
                }

                CompleteIf(RequestKind.Execute, buffer, position, frame, client, output);
                return;
            case BackendMessageCode.ParseComplete:
                Complete(RequestKind.Parse, buffer, position, frame, client, output);
                return;
            case BackendMessageCode.BindComplete:
                Complete(RequestKind.Bind, buffer, position, frame, client, output);
                return;
            case BackendMessageCode.CloseComplete:
                Complete(RequestKind.Close, buffer, position, frame, client, output);
                return;
            case BackendMessageCode.NoData:
                Complete(RequestKind.Describe, buffer, position, frame, client, output);
                return;
            case BackendMessageCode.EmptyQueryResponse:
            case BackendMessageCode.PortalSuspended:
                CompleteIf(RequestKind.Execute, buffer, position, frame, client, output);
                return;
            case BackendMessageCode.CopyInResponse:
            case BackendMessageCode.CopyOutResponse:
            case BackendMessageCode.CopyBothResponse:
            case BackendMessageCode.CopyDone:
                Forward(buffer, position, frame, client, output);
                return;
            default:
                throw new ServerProtocolException($"the server sent an unexpected message '{(char)code}' after login");
        }
    }

    private void Forward(byte[] buffer, int position, int frame, ClientSession? client, OutboundBuffer output)
    {
        if (client is not null && HeadForwards)
        {
            output.Pass(buffer, position, frame);
        }
    }

    /// <summary>The message ends the head request if that is of <paramref name="kind"/>; otherwise it is part of a query.</summary>
    private void CompleteIf(RequestKind kind, byte[] buffer, int position, int frame, ClientSession? client, OutboundBuffer output)
    {
        if (!Requests.IsEmpty && Requests.Head.Kind == kind)
        {
            Complete(kind, buffer, position, frame, client, output);
            return;
        }

        Forward(buffer, position, frame, client, output);
    }

    private void Complete(RequestKind kind, byte[] buffer, int position, int frame, ClientSession? client, OutboundBuffer output)
    {
        if (Requests.IsEmpty || Requests.Head.Kind != kind)
        {
            throw new ServerProtocolException(
                $"the server sent '{(char)buffer[position]}' where PgGate expected the answer to " +
                (Requests.IsEmpty ? "no request" : Requests.Head.Kind.ToString()));
        }

        var request = Requests.Dequeue();
        if (client is null)
        {
            return;
        }

        switch (request.Action)
        {
            case ResponseAction.Forward:
                output.Pass(buffer, position, frame);
                break;
            case ResponseAction.AnswerParseComplete:
                BackendMessageWriter.WriteParseComplete(output);
                break;
            case ResponseAction.AnswerError:
                output.Write((byte[])request.State!);
                break;
        }
    }

    private void OnReadyForQuery(byte[] buffer, int position, int frame, ReadOnlySpan<byte> payload, ClientSession? client, OutboundBuffer output)
    {
        if (!BackendMessageReader.TryReadReadyForQuery(payload, out var status))
        {
            throw new ServerProtocolException("the server sent a malformed ReadyForQuery");
        }

        TransactionStatus = status;

        // Requests the server skipped after an error are gone by now; the sync-point request is what this answers.
        while (!Requests.IsEmpty && !Requests.Head.EndsWithReadyForQuery)
        {
            Undo(Requests.Dequeue(), client);
        }

        if (Requests.IsEmpty)
        {
            throw new ServerProtocolException("the server sent ReadyForQuery that answers no request");
        }

        var request = Requests.Dequeue();
        if (client is null)
        {
            return;
        }

        if (request.Action == ResponseAction.Forward)
        {
            output.Pass(buffer, position, frame);
        }
        else if (request.State is byte[] emit)
        {
            // ParameterStatus messages the client must see after a checkout (e.g. in_hot_standby of a new backend).
            output.Write(emit);
        }

        client.OnReadyForQuery(this, status, request.Action == ResponseAction.Forward, output);
    }

    private void OnParameterStatus(byte[] buffer, int position, int frame, ReadOnlySpan<byte> payload, ClientSession? client, OutboundBuffer output)
    {
        if (!BackendMessageReader.TryReadParameterStatus(payload, out var name, out var value))
        {
            throw new ServerProtocolException("the server sent a malformed ParameterStatus");
        }

        Parameters = Parameters.With(name, value);
        if (client is not null && client.OnServerParameter(name, value, requestedByClient: HeadForwards))
        {
            output.Pass(buffer, position, frame);
        }
    }
}

/// <summary>What a named Parse registered, so that a failed or skipped Parse can be undone.</summary>
internal sealed class ParseTracking(PreparedStatement statement, byte[]? clientName, bool preparedHere)
{
    public PreparedStatement Statement { get; } = statement;

    /// <summary>The client's name for it (null for Parses the pooler injected on its own).</summary>
    public byte[]? ClientName { get; } = clientName;

    /// <summary>True when this request prepares the statement on the server (false when the server already had it).</summary>
    public bool PreparedHere { get; } = preparedHere;
}

/// <summary>Marks the Parse of a client's unnamed statement, so that its failure clears the server's owner.</summary>
internal sealed class UnnamedParseMarker
{
    public static UnnamedParseMarker Instance { get; } = new();
}
