using System.Buffers;
using System.Net;
using System.Net.Sockets;
using PgGate.Protocol;

namespace PgGate.Tests.Protocol;

/// <summary>
/// A scripted PostgreSQL server on 127.0.0.51 for client edge cases a real server will not produce.
/// Each test drives the accepted connection message by message.
/// </summary>
internal sealed class MockPgServer : IAsyncDisposable
{
    private readonly Socket _listener;

    public MockPgServer(int backlog = 16)
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.51"), 0));
        _listener.Listen(backlog);
    }

    public string Host => "127.0.0.51";

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    public async Task<Connection> AcceptAsync(CancellationToken cancellationToken)
        => new(await _listener.AcceptAsync(cancellationToken));

    public ValueTask DisposeAsync()
    {
        _listener.Dispose();
        return ValueTask.CompletedTask;
    }

    internal sealed class Connection : IAsyncDisposable
    {
        private readonly Socket _socket;
        private byte[] _buffer = new byte[64 * 1024];
        private int _count;

        public Connection(Socket socket) => _socket = socket;

        public async Task<StartupParseResult> ReadStartupAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                var result = StartupPacketParser.Parse(_buffer.AsSpan(0, _count));
                if (result.Status != StartupParseStatus.NeedMoreData)
                {
                    Consume(result.PacketLength);
                    return result;
                }

                await ReceiveAsync(cancellationToken);
            }
        }

        public async Task<(byte Code, byte[] Payload)> ReadMessageAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                if (MessageFraming.TryReadMessage(_buffer.AsSpan(0, _count), 1 << 20, out var header, out var payload) == MessageReadStatus.Ok)
                {
                    var message = (header.Code, payload.ToArray());
                    Consume((int)header.FrameLength);
                    return message;
                }

                await ReceiveAsync(cancellationToken);
            }
        }

        public async Task SendAsync(Action<IBufferWriter<byte>> write, CancellationToken cancellationToken)
        {
            var writer = new ArrayBufferWriter<byte>();
            write(writer);
            await _socket.SendAsync(writer.WrittenMemory, SocketFlags.None, cancellationToken);
        }

        public Task SendRawAsync(byte[] bytes, CancellationToken cancellationToken)
            => _socket.SendAsync(bytes, SocketFlags.None, cancellationToken).AsTask();

        /// <summary>Sends what a server sends after successful authentication, ending with ReadyForQuery.</summary>
        public Task SendReadyAsync(CancellationToken cancellationToken, byte[]? key = null) => SendAsync(w =>
        {
            BackendMessageWriter.WriteAuthenticationOk(w);
            BackendMessageWriter.WriteParameterStatus(w, "server_version", "15.18");
            BackendMessageWriter.WriteParameterStatus(w, "in_hot_standby", "on");
            BackendMessageWriter.WriteBackendKeyData(w, 4242, key ?? [1, 2, 3, 4]);
            BackendMessageWriter.WriteReadyForQuery(w, TransactionStatus.Idle);
        }, cancellationToken);

        /// <summary>Waits until the client closes its side (0-byte read), bounded by the token.</summary>
        public async Task<bool> WaitForCloseAsync(CancellationToken cancellationToken)
        {
            var sink = new byte[256];
            try
            {
                while (await _socket.ReceiveAsync(sink, SocketFlags.None, cancellationToken) > 0)
                {
                }

                return true;
            }
            catch (SocketException)
            {
                return true;
            }
        }

        public ValueTask DisposeAsync()
        {
            _socket.Dispose();
            return ValueTask.CompletedTask;
        }

        private async Task ReceiveAsync(CancellationToken cancellationToken)
        {
            if (_count == _buffer.Length)
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }

            var received = await _socket.ReceiveAsync(_buffer.AsMemory(_count), SocketFlags.None, cancellationToken);
            if (received == 0)
            {
                throw new EndOfStreamException("The client closed the connection.");
            }

            _count += received;
        }

        private void Consume(int length)
        {
            Buffer.BlockCopy(_buffer, length, _buffer, 0, _count - length);
            _count -= length;
        }
    }
}
