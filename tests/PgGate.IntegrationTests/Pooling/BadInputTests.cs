using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Npgsql;
using PgGate.Protocol;

namespace PgGate.IntegrationTests.Pooling;

/// <summary>
/// What the pooler does with bytes that are not the protocol: every malformed startup packet, wrong protocol version,
/// unknown message type, lying length, oversized message and garbage before authentication ends that client's
/// connection with an ErrorResponse (SQLSTATE 08P01), is counted, and does not disturb a client already working.
/// </summary>
[Collection(PoolingCollection.Name)]
public sealed class BadInputTests(PoolingFixture fixture)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<string, byte[]> BadFirstPackets => new()
    {
        { "a length shorter than the header", Int32s(4, 196608) },
        { "a length over the startup limit", Int32s(1_000_000, 196608) },
        { "protocol version 2.0", Startup(0x0002_0000) },
        { "protocol version 4.0", Startup(0x0004_0000) },
        { "a startup packet without its terminator", [.. Int32s(8 + 5, 196608), .. "user"u8, 0] },
        { "an HTTP request", Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: pggate\r\n\r\n") },
    };

    [Theory]
    [MemberData(nameof(BadFirstPackets))]
    public async Task A_bad_first_packet_gets_08P01_and_working_clients_go_on(string what, byte[] packet)
    {
        await using var pooler = await fixture.StartPoolerAsync();
        await using var working = await pooler.OpenAsync();
        await using var transaction = await working.BeginTransactionAsync(Cancel);
        var errorsBefore = pooler.Pooler.ProtocolErrors;

        await using (var bad = await RawPgClient.OpenAsync(pooler.Host, pooler.Port, Cancel))
        {
            await bad.SendAsync(packet, Cancel);
            var error = await bad.ReadErrorAsync(Cancel);
            Assert.True(error is not null, $"{what}: no ErrorResponse before the close");
            Assert.Equal("08P01", error.SqlState);
            Assert.True(await bad.IsClosedByPeerAsync(Cancel), $"{what}: the connection stayed open");
        }

        Assert.True(pooler.Pooler.ProtocolErrors > errorsBefore, $"{what}: not counted as a protocol error");
        Assert.Equal(42, await new NpgsqlCommand("select 42", working, transaction).ExecuteScalarAsync(Cancel));
        await transaction.CommitAsync(Cancel);
    }

    [Fact]
    public async Task A_newer_minor_protocol_version_is_negotiated_down_to_3_0()
    {
        await using var pooler = await fixture.StartPoolerAsync();
        await using var client = await RawPgClient.OpenAsync(pooler.Host, pooler.Port, Cancel);
        var startup = new ArrayBufferWriter<byte>();
        FrontendMessageWriter.WriteStartupMessage(startup, [new("user", "test"), new("database", PoolingFixture.Database), new("_pq_.unknown", "x")]);
        var bytes = startup.WrittenSpan.ToArray();
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), 0x0003_0002);
        await client.SendAsync(bytes, Cancel);

        var (code, payload) = await client.ReadMessageAsync(Cancel);
        Assert.Equal((byte)'v', code);
        Assert.Equal(0x0003_0000, BinaryPrimitives.ReadInt32BigEndian(payload));
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(payload.AsSpan(4)));
        Assert.Equal("_pq_.unknown\0", Encoding.ASCII.GetString(payload, 8, payload.Length - 8));

        // The login goes on in 3.0.
        await client.LoginAsync("test", "test", Cancel);
        await client.SendQueriesAsync(["select 'negotiated'"], Cancel);
        Assert.Equal(["negotiated"], await client.ReadRowsUntilReadyAsync(1, Cancel));
    }

    public static TheoryData<string, byte[]> BadMessages => new()
    {
        { "an unknown message type", [(byte)'!', .. Int32s(4)] },
        { "a backend message type", [(byte)'T', .. Int32s(6), 0, 0] },
        { "a length below four", [(byte)'Q', .. Int32s(2)] },
        { "a message over max_packet_size", [(byte)'Q', .. Int32s(70_000)] },
    };

    [Theory]
    [MemberData(nameof(BadMessages))]
    public async Task A_bad_message_after_login_gets_08P01_and_working_clients_go_on(string what, byte[] message)
    {
        await using var pooler = await fixture.StartPoolerAsync(s => s with { MaxPacketSize = 65536 });
        await using var working = await pooler.OpenAsync();
        await using var transaction = await working.BeginTransactionAsync(Cancel);

        await using (var bad = await RawPgClient.ConnectAsync(pooler.Host, pooler.Port, "test", "test", PoolingFixture.Database, Cancel))
        {
            await bad.SendQueriesAsync(["select 1"], Cancel);
            Assert.Equal(["1"], await bad.ReadRowsUntilReadyAsync(1, Cancel));
            await bad.SendAsync(message, Cancel);
            var error = await bad.ReadErrorAsync(Cancel);
            Assert.True(error is not null, $"{what}: no ErrorResponse before the close");
            Assert.Equal("08P01", error.SqlState);
            Assert.True(await bad.IsClosedByPeerAsync(Cancel), $"{what}: the connection stayed open");
        }

        Assert.Equal(42, await new NpgsqlCommand("select 42", working, transaction).ExecuteScalarAsync(Cancel));
        await transaction.CommitAsync(Cancel);

        // The bad client's server connection went back clean (or was closed): a new client gets a working session.
        await using var next = await pooler.OpenAsync();
        Assert.Equal(7, await new NpgsqlCommand("select 7", next).ExecuteScalarAsync(Cancel));
    }

    private static byte[] Startup(int version)
    {
        var bytes = new ArrayBufferWriter<byte>();
        FrontendMessageWriter.WriteStartupMessage(bytes, [new("user", "test"), new("database", PoolingFixture.Database)]);
        var packet = bytes.WrittenSpan.ToArray();
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), version);
        return packet;
    }

    private static byte[] Int32s(params int[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }
}
