using System.Buffers;
using PgGate.Protocol;

namespace PgGate.Tests.Protocol;

/// <summary>What FrontendMessageWriter writes, FrontendMessageReader reads back; malformed payloads are refused.</summary>
public class FrontendMessageReaderTests
{
    private static byte[] PayloadOf(Action<ArrayBufferWriter<byte>> write, byte expectedCode)
    {
        var writer = new ArrayBufferWriter<byte>();
        write(writer);
        Assert.Equal(MessageReadStatus.Ok, MessageFraming.TryReadMessage(writer.WrittenSpan, 1 << 20, out var header, out var payload));
        Assert.Equal(expectedCode, header.Code);
        return payload.ToArray();
    }

    [Fact]
    public void PasswordMessage_and_Query_round_trip()
    {
        Assert.True(FrontendMessageReader.TryReadPasswordMessage(PayloadOf(w => FrontendMessageWriter.WritePasswordMessage(w, "pässword"), (byte)'p'), out var password));
        Assert.Equal("pässword", password);
        Assert.True(FrontendMessageReader.TryReadQuery(PayloadOf(w => FrontendMessageWriter.WriteQuery(w, "select 1"), (byte)'Q'), out var sql));
        Assert.Equal("select 1", sql);
        Assert.False(FrontendMessageReader.TryReadQuery("select 1"u8, out _));
    }

    [Fact]
    public void SASLInitialResponse_round_trips_and_a_lying_length_is_refused()
    {
        var payload = PayloadOf(w => FrontendMessageWriter.WriteSaslInitialResponse(w, "SCRAM-SHA-256", "n,,n=,r=abc"u8), (byte)'p');

        Assert.True(FrontendMessageReader.TryReadSaslInitialResponse(payload, out var mechanism, out var data));
        Assert.Equal("SCRAM-SHA-256", mechanism);
        Assert.Equal("n,,n=,r=abc"u8.ToArray(), data.ToArray());

        payload[^12] = 99; // the data length's low byte: now longer than the payload
        Assert.False(FrontendMessageReader.TryReadSaslInitialResponse(payload, out _, out _));
        Assert.True(FrontendMessageReader.TryReadSaslInitialResponse([.. "SCRAM-SHA-256"u8, 0, 0xff, 0xff, 0xff, 0xff], out _, out var none));
        Assert.True(none.IsEmpty);
    }

    [Fact]
    public void Parse_round_trips_name_query_and_types()
    {
        var payload = PayloadOf(w => FrontendMessageWriter.WriteParse(w, "s1", "select $1, $2", [PgTypeOid.Int4, 0]), (byte)'P');

        Assert.True(FrontendMessageReader.TryReadParse(payload, out var name, out var query, out var oids));
        Assert.Equal("s1", name);
        Assert.Equal("select $1, $2", query);
        Assert.Equal([PgTypeOid.Int4, 0u], oids);
        Assert.False(FrontendMessageReader.TryReadParse(payload.AsSpan(0, payload.Length - 1), out _, out _, out _));
    }

    [Fact]
    public void Bind_names_Describe_Close_and_Execute_round_trip()
    {
        Assert.True(FrontendMessageReader.TryReadBindNames(
            PayloadOf(w => FrontendMessageWriter.WriteBind(w, "p1", "s1", ["x"]), (byte)'B'), out var portal, out var statement));
        Assert.Equal(("p1", "s1"), (portal, statement));

        Assert.True(FrontendMessageReader.TryReadTarget(
            PayloadOf(w => FrontendMessageWriter.WriteDescribe(w, FrontendMessageCode.TargetStatement, "s1"), (byte)'D'), out var target, out var name));
        Assert.Equal(((byte)'S', "s1"), (target, name));
        Assert.True(FrontendMessageReader.TryReadTarget(
            PayloadOf(w => FrontendMessageWriter.WriteClose(w, FrontendMessageCode.TargetPortal, ""), (byte)'C'), out target, out name));
        Assert.Equal(((byte)'P', ""), (target, name));
        Assert.False(FrontendMessageReader.TryReadTarget([(byte)'X', 0], out _, out _));

        Assert.True(FrontendMessageReader.TryReadExecute(PayloadOf(w => FrontendMessageWriter.WriteExecute(w, "p1", 50), (byte)'E'), out portal, out var maxRows));
        Assert.Equal(("p1", 50), (portal, maxRows));
    }
}
