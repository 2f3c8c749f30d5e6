using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using PgGate.Protocol;
using PgGate.Protocol.Auth;

namespace PgGate.IntegrationTests.Pooling;

/// <summary>
/// A deliberately simple protocol client over a raw socket, for what drivers will not do: send many requests before
/// reading, vanish abruptly, or send malformed bytes. SCRAM, MD5, cleartext and trust login.
/// </summary>
internal sealed class RawPgClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private byte[] _buffer = new byte[64 * 1024];
    private int _count;

    private RawPgClient(Socket socket) => _socket = socket;

    public static async Task<RawPgClient> OpenAsync(string host, int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(host), port), cancellationToken);
        return new RawPgClient(socket);
    }

    public static async Task<RawPgClient> ConnectAsync(string host, int port, string user, string password, string database, CancellationToken cancellationToken)
    {
        var client = await OpenAsync(host, port, cancellationToken);
        var startup = new ArrayBufferWriter<byte>();
        FrontendMessageWriter.WriteStartupMessage(startup, [new("user", user), new("database", database)]);
        await client.SendAsync(startup.WrittenMemory, cancellationToken);
        await client.LoginAsync(user, password, cancellationToken);
        return client;
    }

    public async Task LoginAsync(string user, string password, CancellationToken cancellationToken)
    {
        ScramSha256Client? scram = null;
        while (true)
        {
            var (code, payload) = await ReadMessageAsync(cancellationToken);
            var writer = new ArrayBufferWriter<byte>();
            switch (code)
            {
                case (byte)'R':
                    var type = (AuthenticationRequestType)BinaryPrimitives.ReadInt32BigEndian(payload);
                    var data = payload.AsSpan(4);
                    switch (type)
                    {
                        case AuthenticationRequestType.CleartextPassword:
                            FrontendMessageWriter.WritePasswordMessage(writer, password);
                            break;
                        case AuthenticationRequestType.Md5Password:
                            FrontendMessageWriter.WritePasswordMessage(writer, Md5Password.Compute(user, password, data));
                            break;
                        case AuthenticationRequestType.Sasl:
                            scram = new ScramSha256Client(password);
                            FrontendMessageWriter.WriteSaslInitialResponse(writer, ScramSha256Client.MechanismName, scram.CreateClientFirstMessage());
                            break;
                        case AuthenticationRequestType.SaslContinue:
                            FrontendMessageWriter.WriteSaslResponse(writer, scram!.HandleServerFirstMessage(data).Message);
                            break;
                    }

                    if (writer.WrittenCount > 0)
                    {
                        await SendAsync(writer.WrittenMemory, cancellationToken);
                    }

                    break;
                case (byte)'E':
                    BackendMessageReader.TryReadErrorFields(payload, out var fields);
                    throw new InvalidOperationException($"login failed: {fields!.SqlState} {fields.Message}");
                case (byte)'Z':
                    return;
            }
        }
    }

    public async Task SendQueriesAsync(IEnumerable<string> queries, CancellationToken cancellationToken)
    {
        var writer = new ArrayBufferWriter<byte>();
        foreach (var query in queries)
        {
            FrontendMessageWriter.WriteQuery(writer, query);
        }

        await SendAsync(writer.WrittenMemory, cancellationToken);
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        while (!bytes.IsEmpty)
        {
            var sent = await _socket.SendAsync(bytes, SocketFlags.None, cancellationToken);
            bytes = bytes.Slice(sent);
        }
    }

    /// <summary>The first column of every DataRow until <paramref name="readyCount"/> ReadyForQuery messages arrived.</summary>
    public async Task<List<string>> ReadRowsUntilReadyAsync(int readyCount, CancellationToken cancellationToken)
    {
        var rows = new List<string>();
        while (readyCount > 0)
        {
            var (code, payload) = await ReadMessageAsync(cancellationToken);
            switch (code)
            {
                case (byte)'D':
                    BackendMessageReader.TryReadDataRow(payload, out var values);
                    rows.Add(values![0] ?? "");
                    break;
                case (byte)'E':
                    BackendMessageReader.TryReadErrorFields(payload, out var fields);
                    rows.Add("ERROR " + fields!.SqlState);
                    break;
                case (byte)'Z':
                    readyCount--;
                    break;
            }
        }

        return rows;
    }

    /// <summary>The next message, or (0, []) at end of stream.</summary>
    public async Task<(byte Code, byte[] Payload)> ReadMessageAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_count >= 5)
            {
                var length = BinaryPrimitives.ReadInt32BigEndian(_buffer.AsSpan(1));
                if (_count >= length + 1)
                {
                    var code = _buffer[0];
                    var payload = _buffer.AsSpan(5, length - 4).ToArray();
                    Buffer.BlockCopy(_buffer, length + 1, _buffer, 0, _count - length - 1);
                    _count -= length + 1;
                    return (code, payload);
                }

                if (length + 1 > _buffer.Length)
                {
                    Array.Resize(ref _buffer, length + 1);
                }
            }

            var received = await _socket.ReceiveAsync(_buffer.AsMemory(_count), SocketFlags.None, cancellationToken);
            if (received == 0)
            {
                return (0, []);
            }

            _count += received;
        }
    }

    /// <summary>The next ErrorResponse's fields, skipping other messages; null when the connection closes first.</summary>
    public async Task<PgErrorFields?> ReadErrorAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var (code, payload) = await ReadMessageAsync(cancellationToken);
            if (code == 0)
            {
                return null;
            }

            if (code == (byte)'E')
            {
                BackendMessageReader.TryReadErrorFields(payload, out var fields);
                return fields;
            }
        }
    }

    /// <summary>True when the peer closed the connection (after whatever it still sent).</summary>
    public async Task<bool> IsClosedByPeerAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                var (code, _) = await ReadMessageAsync(cancellationToken);
                if (code == 0)
                {
                    return true;
                }
            }
            catch (SocketException)
            {
                return true;
            }
        }
    }

    /// <summary>Vanishes without Terminate: an RST, as a crashed client or a killed process.</summary>
    public ValueTask AbortAsync()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
