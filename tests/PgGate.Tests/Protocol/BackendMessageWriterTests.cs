using System.Buffers;
using PgGate.Protocol;

namespace PgGate.Tests.Protocol;

public class BackendMessageWriterTests
{
    private static byte[] Write(Action<ArrayBufferWriter<byte>> write)
    {
        var writer = new ArrayBufferWriter<byte>();
        write(writer);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Frames the single message in <paramref name="bytes"/> and returns its payload, checking the length field.</summary>
    private static byte[] PayloadOf(byte[] bytes, byte expectedCode)
    {
        Assert.Equal(MessageReadStatus.Ok, MessageFraming.TryReadMessage(bytes, 1 << 20, out var header, out var payload));
        Assert.Equal(expectedCode, header.Code);
        Assert.Equal(bytes.Length, header.FrameLength);
        return payload.ToArray();
    }

    [Fact]
    public void ReadyForQuery_is_Z_length_5_status()
    {
        Assert.Equal([(byte)'Z', 0, 0, 0, 5, (byte)'I'], Write(w => BackendMessageWriter.WriteReadyForQuery(w, TransactionStatus.Idle)));
        Assert.Equal([(byte)'Z', 0, 0, 0, 5, (byte)'E'], Write(w => BackendMessageWriter.WriteReadyForQuery(w, TransactionStatus.Failed)));
    }

    [Fact]
    public void AuthenticationOk_and_cleartext_are_R_length_8_subtype()
    {
        Assert.Equal([(byte)'R', 0, 0, 0, 8, 0, 0, 0, 0], Write(BackendMessageWriter.WriteAuthenticationOk));
        Assert.Equal([(byte)'R', 0, 0, 0, 8, 0, 0, 0, 3], Write(BackendMessageWriter.WriteAuthenticationCleartextPassword));
    }

    [Fact]
    public void AuthenticationMD5Password_carries_the_salt()
    {
        Assert.Equal(
            [(byte)'R', 0, 0, 0, 12, 0, 0, 0, 5, 0xde, 0xad, 0xbe, 0xef],
            Write(w => BackendMessageWriter.WriteAuthenticationMd5Password(w, [0xde, 0xad, 0xbe, 0xef])));
        Assert.Throws<ArgumentException>(() => Write(w => BackendMessageWriter.WriteAuthenticationMd5Password(w, [1, 2])));
    }

    [Fact]
    public void AuthenticationSASL_lists_mechanisms_then_an_empty_string()
    {
        byte[] expected = [(byte)'R', 0, 0, 0, 23, 0, 0, 0, 10, .. "SCRAM-SHA-256"u8, 0, 0];

        Assert.Equal(expected, Write(w => BackendMessageWriter.WriteAuthenticationSasl(w, ["SCRAM-SHA-256"])));
    }

    [Fact]
    public void SASLContinue_and_SASLFinal_carry_raw_data()
    {
        Assert.Equal([(byte)'R', 0, 0, 0, 11, 0, 0, 0, 11, (byte)'r', (byte)'=', (byte)'x'],
            Write(w => BackendMessageWriter.WriteAuthenticationSaslContinue(w, "r=x"u8)));
        Assert.Equal([(byte)'R', 0, 0, 0, 10, 0, 0, 0, 12, (byte)'v', (byte)'='],
            Write(w => BackendMessageWriter.WriteAuthenticationSaslFinal(w, "v="u8)));
    }

    [Fact]
    public void ErrorResponse_has_S_V_C_M_fields_and_a_final_NUL()
    {
        byte[] expected =
        [
            (byte)'E', 0, 0, 0, 36,
            (byte)'S', .. "FATAL"u8, 0,
            (byte)'V', .. "FATAL"u8, 0,
            (byte)'C', .. "53300"u8, 0,
            (byte)'M', .. "too many"u8, 0,
            0,
        ];

        Assert.Equal(expected, Write(w => BackendMessageWriter.WriteErrorResponse(w, ErrorSeverity.Fatal, SqlState.TooManyConnections, "too many")));
    }

    [Fact]
    public void Error_and_notice_fields_round_trip_through_the_reader()
    {
        var bytes = Write(w => BackendMessageWriter.WriteNoticeResponse(
            w, ErrorSeverity.Warning, "01000", "pool is filling", detail: "90 of 100 used", hint: "raise pool_size"));

        Assert.True(BackendMessageReader.TryReadErrorFields(PayloadOf(bytes, (byte)'N'), out var fields));
        Assert.Equal("WARNING", fields.Severity);
        Assert.Equal("WARNING", fields.InvariantSeverity);
        Assert.Equal("01000", fields.SqlState);
        Assert.Equal("pool is filling", fields.Message);
        Assert.Equal("90 of 100 used", fields.Detail);
        Assert.Equal("raise pool_size", fields.Hint);
        Assert.False(fields.IsFatal);
    }

    [Fact]
    public void The_full_error_record_round_trips_every_field()
    {
        var original = new PgErrorFields
        {
            Severity = "FEHLER",
            InvariantSeverity = "ERROR",
            SqlState = "23505",
            Message = "duplicate key",
            Detail = "Key (id)=(1) already exists.",
            Hint = "h",
            Position = "12",
            InternalPosition = "3",
            InternalQuery = "iq",
            Where = "w",
            SchemaName = "public",
            TableName = "t",
            ColumnName = "c",
            DataTypeName = "int4",
            ConstraintName = "t_pkey",
            File = "nbtinsert.c",
            Line = "666",
            Routine = "_bt_check_unique",
        };

        var bytes = Write(w => BackendMessageWriter.WriteErrorResponse(w, original));

        Assert.True(BackendMessageReader.TryReadErrorFields(PayloadOf(bytes, (byte)'E'), out var read));
        Assert.Equal(original, read);
    }

    [Fact]
    public void ParameterStatus_is_two_C_strings()
    {
        byte[] expected = [(byte)'S', 0, 0, 0, 23, .. "in_hot_standby"u8, 0, .. "off"u8, 0];

        var bytes = Write(w => BackendMessageWriter.WriteParameterStatus(w, "in_hot_standby", "off"));

        Assert.Equal(expected, bytes);
        Assert.True(BackendMessageReader.TryReadParameterStatus(PayloadOf(bytes, (byte)'S'), out var name, out var value));
        Assert.Equal(("in_hot_standby", "off"), (name, value));
    }

    [Fact]
    public void BackendKeyData_accepts_4_and_32_byte_keys()
    {
        Assert.Equal([(byte)'K', 0, 0, 0, 12, 0, 0, 0x30, 0x39, 1, 2, 3, 4],
            Write(w => BackendMessageWriter.WriteBackendKeyData(w, 12345, [1, 2, 3, 4])));

        var key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var bytes = Write(w => BackendMessageWriter.WriteBackendKeyData(w, 7, key));
        Assert.True(BackendMessageReader.TryReadBackendKeyData(PayloadOf(bytes, (byte)'K'), out var pid, out var readKey));
        Assert.Equal(7, pid);
        Assert.Equal(key, readKey);
        Assert.Throws<ArgumentException>(() => Write(w => BackendMessageWriter.WriteBackendKeyData(w, 1, [1, 2, 3])));
    }

    [Fact]
    public void RowDescription_and_DataRow_round_trip_with_nulls_and_UTF8()
    {
        PgColumn[] columns = [new("name", PgTypeOid.Text), new("port", PgTypeOid.Int4)];
        var description = Write(w => BackendMessageWriter.WriteRowDescription(w, columns));
        var row = Write(w => BackendMessageWriter.WriteDataRow(w, ["größe", null]));

        Assert.True(BackendMessageReader.TryReadRowDescription(PayloadOf(description, (byte)'T'), out var readColumns));
        Assert.Equal(columns, readColumns);
        Assert.Equal(-1, readColumns[0].TypeSize);
        Assert.Equal(-1, readColumns[0].TypeModifier);
        Assert.True(BackendMessageReader.TryReadDataRow(PayloadOf(row, (byte)'D'), out var values));
        Assert.Equal(["größe", null], values);
    }

    [Fact]
    public void DataRow_bytes_are_count_then_length_prefixed_values()
    {
        byte[] expected = [(byte)'D', 0, 0, 0, 15, 0, 2, 0, 0, 0, 1, (byte)'t', 0xff, 0xff, 0xff, 0xff];

        Assert.Equal(expected, Write(w => BackendMessageWriter.WriteDataRow(w, ["t", null])));
    }

    [Fact]
    public void CommandComplete_EmptyQuery_and_extended_completions()
    {
        byte[] expected = [(byte)'C', 0, 0, 0, 13, .. "SELECT 1"u8, 0];
        Assert.Equal(expected, Write(w => BackendMessageWriter.WriteCommandComplete(w, "SELECT 1")));
        Assert.Equal([(byte)'I', 0, 0, 0, 4], Write(BackendMessageWriter.WriteEmptyQueryResponse));
        Assert.Equal([(byte)'1', 0, 0, 0, 4], Write(BackendMessageWriter.WriteParseComplete));
        Assert.Equal([(byte)'2', 0, 0, 0, 4], Write(BackendMessageWriter.WriteBindComplete));
        Assert.Equal([(byte)'3', 0, 0, 0, 4], Write(BackendMessageWriter.WriteCloseComplete));
        Assert.Equal([(byte)'n', 0, 0, 0, 4], Write(BackendMessageWriter.WriteNoData));
        Assert.Equal([(byte)'s', 0, 0, 0, 4], Write(BackendMessageWriter.WritePortalSuspended));
    }

    [Fact]
    public void NegotiateProtocolVersion_lists_the_unrecognised_options()
    {
        byte[] expected = [(byte)'v', 0, 0, 0, 19, 0, 0, 0, 0, 0, 0, 0, 1, .. "_pq_.x"u8, 0];

        var bytes = Write(w => BackendMessageWriter.WriteNegotiateProtocolVersion(w, 0, ["_pq_.x"]));

        Assert.Equal(expected, bytes);
        Assert.True(BackendMessageReader.TryReadNegotiateProtocolVersion(PayloadOf(bytes, (byte)'v'), out var minor, out var options));
        Assert.Equal(0, minor);
        Assert.Equal(["_pq_.x"], options);
    }

    [Fact]
    public void Encryption_answers_are_single_bytes()
    {
        Assert.Equal([(byte)'N'], Write(w => BackendMessageWriter.WriteSslResponse(w, accept: false)));
        Assert.Equal([(byte)'S'], Write(w => BackendMessageWriter.WriteSslResponse(w, accept: true)));
        Assert.Equal([(byte)'N'], Write(w => BackendMessageWriter.WriteGssEncResponse(w, accept: false)));
        Assert.Equal([(byte)'G'], Write(w => BackendMessageWriter.WriteGssEncResponse(w, accept: true)));
    }

    [Fact]
    public void A_NUL_inside_a_C_string_is_refused_instead_of_corrupting_the_stream()
    {
        var e = Assert.Throws<ArgumentException>(() => Write(w => BackendMessageWriter.WriteParameterStatus(w, "a\0b", "c")));
        Assert.Equal("name", e.ParamName);
    }

    [Fact]
    public void Messages_append_after_what_the_writer_already_holds()
    {
        var writer = new ArrayBufferWriter<byte>();
        BackendMessageWriter.WriteAuthenticationOk(writer);
        BackendMessageWriter.WriteParameterStatus(writer, "server_version", "15.18");
        BackendMessageWriter.WriteBackendKeyData(writer, 1, [9, 9, 9, 9]);
        BackendMessageWriter.WriteReadyForQuery(writer, TransactionStatus.Idle);

        var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory);
        var codes = new List<char>();
        while (MessageFraming.TryReadMessage(buffer, 1000, out var message) == MessageReadStatus.Ok)
        {
            codes.Add((char)message.Code);
            buffer = buffer.Slice(message.End);
        }

        Assert.Equal(['R', 'S', 'K', 'Z'], codes);
        Assert.Equal(0, buffer.Length);
    }

    [Fact]
    public void Writing_a_message_allocates_nothing()
    {
        var writer = new ArrayBufferWriter<byte>(4096);
        string?[] values = ["42", null, "primary"];
        PgColumn[] columns = [new("a", PgTypeOid.Int4), new("b", PgTypeOid.Text), new("c", PgTypeOid.Text)];
        WriteAll(writer, values, columns);
        writer.ResetWrittenCount();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            WriteAll(writer, values, columns);
            writer.ResetWrittenCount();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        static void WriteAll(ArrayBufferWriter<byte> writer, string?[] values, PgColumn[] columns)
        {
            BackendMessageWriter.WriteRowDescription(writer, columns);
            BackendMessageWriter.WriteDataRow(writer, values);
            BackendMessageWriter.WriteCommandComplete(writer, "SELECT 1");
            BackendMessageWriter.WriteReadyForQuery(writer, TransactionStatus.Idle);
            BackendMessageWriter.WriteErrorResponse(writer, ErrorSeverity.Error, SqlState.QueryCanceled, "canceling statement");
            BackendMessageWriter.WriteParameterStatus(writer, "in_hot_standby", "off");
        }
    }
}
