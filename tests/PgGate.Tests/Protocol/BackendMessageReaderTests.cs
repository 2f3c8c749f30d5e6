using PgGate.Protocol;

namespace PgGate.Tests.Protocol;

public class BackendMessageReaderTests
{
    [Fact]
    public void Authentication_subtype_and_data_are_split()
    {
        Assert.True(BackendMessageReader.TryReadAuthentication([0, 0, 0, 5, 1, 2, 3, 4], out var type, out var data));
        Assert.Equal(AuthenticationRequestType.Md5Password, type);
        Assert.Equal([1, 2, 3, 4], data.ToArray());
        Assert.False(BackendMessageReader.TryReadAuthentication([0, 0, 5], out _, out _));
    }

    [Fact]
    public void SASL_mechanisms_are_read_up_to_the_empty_string()
    {
        Assert.True(BackendMessageReader.TryReadSaslMechanisms("SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0"u8, out var mechanisms));
        Assert.Equal(["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"], mechanisms);
        Assert.False(BackendMessageReader.TryReadSaslMechanisms("SCRAM-SHA-256\0"u8, out _));
    }

    [Fact]
    public void ReadyForQuery_accepts_only_I_T_E()
    {
        Assert.True(BackendMessageReader.TryReadReadyForQuery("T"u8, out var status));
        Assert.Equal(TransactionStatus.InTransaction, status);
        Assert.False(BackendMessageReader.TryReadReadyForQuery("X"u8, out _));
        Assert.False(BackendMessageReader.TryReadReadyForQuery("II"u8, out _));
    }

    [Fact]
    public void CommandComplete_tag_must_be_one_C_string()
    {
        Assert.True(BackendMessageReader.TryReadCommandComplete("INSERT 0 3\0"u8, out var tag));
        Assert.Equal("INSERT 0 3", tag);
        Assert.False(BackendMessageReader.TryReadCommandComplete("INSERT"u8, out _));
    }

    [Fact]
    public void Error_fields_with_unknown_codes_are_skipped_and_truncation_is_detected()
    {
        Assert.True(BackendMessageReader.TryReadErrorFields("SERROR\0Z???\0C42704\0Mgone\0\0"u8, out var fields));
        Assert.Equal("42704", fields.SqlState);
        Assert.Equal("gone", fields.Message);
        Assert.Null(fields.InvariantSeverity);
        Assert.Equal("ERROR", fields.EffectiveSeverity);

        Assert.False(BackendMessageReader.TryReadErrorFields("SERROR\0C42704\0Mgone\0"u8, out _));
        Assert.False(BackendMessageReader.TryReadErrorFields("SERR"u8, out _));
    }

    [Fact]
    public void DataRow_with_a_length_past_the_payload_is_malformed()
    {
        Assert.False(BackendMessageReader.TryReadDataRow([0, 1, 0, 0, 0, 9, (byte)'x'], out _));
        Assert.False(BackendMessageReader.TryReadDataRow([0, 1, 0xff, 0xff, 0xff, 0xfe], out _));
        Assert.False(BackendMessageReader.TryReadDataRow([0xff, 0xff], out _));
    }

    [Fact]
    public void BackendKeyData_with_a_short_key_is_malformed()
    {
        Assert.False(BackendMessageReader.TryReadBackendKeyData([0, 0, 0, 1, 1, 2, 3], out _, out _));
    }
}
