using System.Buffers;
using PgGate.Protocol;

namespace PgGate.Tests.Protocol;

public class FrontendMessageWriterTests
{
    private static byte[] Write(Action<ArrayBufferWriter<byte>> write)
    {
        var writer = new ArrayBufferWriter<byte>();
        write(writer);
        return writer.WrittenSpan.ToArray();
    }

    [Fact]
    public void StartupMessage_has_length_version_pairs_and_a_final_NUL()
    {
        byte[] expected = [0, 0, 0, 18, 0, 3, 0, 0, .. "user"u8, 0, .. "bob"u8, 0, 0];

        var bytes = Write(w => FrontendMessageWriter.WriteStartupMessage(w, [new("user", "bob")]));

        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void StartupMessage_round_trips_through_the_startup_parser()
    {
        var bytes = Write(w => FrontendMessageWriter.WriteStartupMessage(
            w, [new("user", "bob"), new("database", "db"), new("_pq_.x", "1")], ProtocolConstants.MakeVersion(3, 2)));

        var result = StartupPacketParser.Parse(bytes);

        Assert.True(result.IsOk);
        Assert.Equal(2, result.Startup!.MinorVersion);
        Assert.Equal("db", result.Startup.Database);
        Assert.Equal(["_pq_.x"], result.Startup.GetProtocolOptionNames());
    }

    [Fact]
    public void SslRequest_and_CancelRequest_bytes()
    {
        Assert.Equal([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f], Write(FrontendMessageWriter.WriteSslRequest));
        Assert.Equal([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30], Write(FrontendMessageWriter.WriteGssEncRequest));
        Assert.Equal(
            [0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0x30, 0x39, 0xca, 0xfe, 0xba, 0xbe],
            Write(w => FrontendMessageWriter.WriteCancelRequest(w, 12345, [0xca, 0xfe, 0xba, 0xbe])));
    }

    [Fact]
    public void CancelRequest_with_a_long_key_round_trips_through_the_startup_parser()
    {
        var key = new byte[32];
        key[31] = 7;

        var result = StartupPacketParser.Parse(Write(w => FrontendMessageWriter.WriteCancelRequest(w, -2, key)));

        Assert.Equal(StartupPacketKind.CancelRequest, result.Kind);
        Assert.Equal(-2, result.Cancel.ProcessId);
        Assert.Equal(key, result.Cancel.SecretKey);
    }

    [Fact]
    public void Query_Sync_Flush_Terminate_bytes()
    {
        byte[] query = [(byte)'Q', 0, 0, 0, 13, .. "select 1"u8, 0];
        Assert.Equal(query, Write(w => FrontendMessageWriter.WriteQuery(w, "select 1")));
        Assert.Equal([(byte)'S', 0, 0, 0, 4], Write(FrontendMessageWriter.WriteSync));
        Assert.Equal([(byte)'H', 0, 0, 0, 4], Write(FrontendMessageWriter.WriteFlush));
        Assert.Equal([(byte)'X', 0, 0, 0, 4], Write(FrontendMessageWriter.WriteTerminate));
    }

    [Fact]
    public void Parse_Bind_Describe_Execute_Close_bytes()
    {
        byte[] parse = [(byte)'P', 0, 0, 0, 23, .. "s1"u8, 0, .. "select $1"u8, 0, 0, 1, 0, 0, 0, 25];
        Assert.Equal(parse, Write(w => FrontendMessageWriter.WriteParse(w, "s1", "select $1", [PgTypeOid.Text])));

        byte[] bind = [(byte)'B', 0, 0, 0, 23, 0, .. "s1"u8, 0, 0, 0, 0, 2, 0, 0, 0, 1, (byte)'x', 0xff, 0xff, 0xff, 0xff, 0, 0];
        Assert.Equal(bind, Write(w => FrontendMessageWriter.WriteBind(w, "", "s1", ["x", null])));

        byte[] describe = [(byte)'D', 0, 0, 0, 6, (byte)'P', 0];
        Assert.Equal(describe, Write(w => FrontendMessageWriter.WriteDescribe(w, FrontendMessageCode.TargetPortal, "")));

        byte[] execute = [(byte)'E', 0, 0, 0, 9, 0, 0, 0, 0, 0];
        Assert.Equal(execute, Write(w => FrontendMessageWriter.WriteExecute(w, "")));

        byte[] close = [(byte)'C', 0, 0, 0, 8, (byte)'S', .. "s1"u8, 0];
        Assert.Equal(close, Write(w => FrontendMessageWriter.WriteClose(w, FrontendMessageCode.TargetStatement, "s1")));

        Assert.Throws<ArgumentException>(() => Write(w => FrontendMessageWriter.WriteClose(w, (byte)'X', "s1")));
    }

    [Fact]
    public void Bind_with_encoded_values_writes_their_formats()
    {
        byte[] expected =
        [
            (byte)'B', 0, 0, 0, 28, 0, 0,
            0, 1, 0, 1,             // one parameter format: binary
            0, 2,                   // two values
            0, 0, 0, 4, 0, 0, 0, 42,
            0xff, 0xff, 0xff, 0xff,
            0, 1, 0, 1,             // one result format: binary
        ];

        var bytes = Write(w => FrontendMessageWriter.WriteBind(w, "", "", [1], [new byte[] { 0, 0, 0, 42 }, null], [1]));

        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void Password_and_SASL_messages_share_p()
    {
        byte[] password = [(byte)'p', 0, 0, 0, 8, .. "pwd"u8, 0];
        Assert.Equal(password, Write(w => FrontendMessageWriter.WritePasswordMessage(w, "pwd")));

        byte[] initial = [(byte)'p', 0, 0, 0, 26, .. "SCRAM-SHA-256"u8, 0, 0, 0, 0, 4, .. "n,,x"u8];
        Assert.Equal(initial, Write(w => FrontendMessageWriter.WriteSaslInitialResponse(w, "SCRAM-SHA-256", "n,,x"u8)));

        byte[] response = [(byte)'p', 0, 0, 0, 7, .. "c=x"u8];
        Assert.Equal(response, Write(w => FrontendMessageWriter.WriteSaslResponse(w, "c=x"u8)));
    }
}
