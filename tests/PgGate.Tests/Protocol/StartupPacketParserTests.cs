using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using PgGate.Protocol;

namespace PgGate.Tests.Protocol;

public class StartupPacketParserTests
{
    private static byte[] Packet(int version, params string[] body)
    {
        var content = new List<byte>();
        foreach (var part in body)
        {
            content.AddRange(Encoding.UTF8.GetBytes(part));
            content.Add(0);
        }

        return Raw(version, [.. content]);
    }

    /// <summary>Length word + version word + exactly the given body bytes.</summary>
    private static byte[] Raw(int version, byte[] body, int? lengthOverride = null)
    {
        var packet = new byte[8 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(packet, lengthOverride ?? packet.Length);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), version);
        body.CopyTo(packet, 8);
        return packet;
    }

    private static byte[] Cancel(int processId, int keyLength)
    {
        var packet = new byte[12 + keyLength];
        BinaryPrimitives.WriteInt32BigEndian(packet, packet.Length);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), ProtocolConstants.CancelRequestCode);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(8), processId);
        for (var i = 0; i < keyLength; i++)
        {
            packet[12 + i] = (byte)(i + 1);
        }

        return packet;
    }

    [Fact]
    public void A_psql_style_startup_message_keeps_every_parameter_in_order()
    {
        var packet = Packet(ProtocolConstants.ProtocolVersion3,
            "user", "alice", "database", "sales", "application_name", "psql", "client_encoding", "UTF8", "");

        var result = StartupPacketParser.Parse(packet);

        Assert.Equal(StartupParseStatus.Ok, result.Status);
        Assert.Equal(StartupPacketKind.Startup, result.Kind);
        Assert.Equal(packet.Length, result.PacketLength);
        var startup = result.Startup!;
        Assert.Equal(3, startup.MajorVersion);
        Assert.Equal(0, startup.MinorVersion);
        Assert.Equal("alice", startup.User);
        Assert.Equal("sales", startup.Database);
        Assert.Equal("psql", startup.ApplicationName);
        Assert.Null(startup.Options);
        Assert.Null(startup.Replication);
        Assert.Equal(["user", "database", "application_name", "client_encoding"], startup.Parameters.Select(p => p.Key));
        Assert.False(startup.NeedsProtocolNegotiation());
    }

    [Fact]
    public void The_database_defaults_to_the_user_and_options_and_replication_are_exposed()
    {
        var packet = Packet(ProtocolConstants.ProtocolVersion3,
            "user", "repl", "options", "-c geqo=off", "replication", "database", "");

        var startup = StartupPacketParser.Parse(packet).Startup!;

        Assert.Equal("repl", startup.Database);
        Assert.Equal("-c geqo=off", startup.Options);
        Assert.Equal("database", startup.Replication);
    }

    [Fact]
    public void Values_may_be_empty_and_UTF8_and_the_last_duplicate_wins()
    {
        var packet = Packet(ProtocolConstants.ProtocolVersion3, "user", "jürgen", "database", "", "user", "zoë", "");

        var startup = StartupPacketParser.Parse(packet).Startup!;

        Assert.Equal("zoë", startup.User);
        Assert.Equal("zoë", startup.Database);
        Assert.Equal(3, startup.Parameters.Count);
    }

    [Fact]
    public void Protocol_3_2_with_pq_options_is_reported_for_negotiation()
    {
        var packet = Packet(ProtocolConstants.MakeVersion(3, 2),
            "user", "u", "_pq_.compression", "zstd", "database", "d", "_pq_.other", "1", "");

        var result = StartupPacketParser.Parse(packet);

        Assert.True(result.IsOk);
        var startup = result.Startup!;
        Assert.Equal(2, startup.MinorVersion);
        Assert.True(startup.NeedsProtocolNegotiation());
        Assert.Equal(["_pq_.compression", "_pq_.other"], startup.GetProtocolOptionNames());
        Assert.Equal(["user", "database"], startup.Parameters.Select(p => p.Key));
    }

    [Fact]
    public void Protocol_3_0_with_a_pq_option_also_needs_negotiation()
    {
        var packet = Packet(ProtocolConstants.ProtocolVersion3, "user", "u", "_pq_.x", "y", "");

        Assert.True(StartupPacketParser.Parse(packet).Startup!.NeedsProtocolNegotiation());
    }

    [Fact]
    public void Protocol_3_1_without_options_needs_negotiation_down_to_3_0()
    {
        var startup = StartupPacketParser.Parse(Packet(ProtocolConstants.MakeVersion(3, 1), "user", "u", "")).Startup!;

        Assert.Equal(1, startup.MinorVersion);
        Assert.True(startup.NeedsProtocolNegotiation());
        Assert.False(startup.NeedsProtocolNegotiation(latestSupportedMinor: 2));
    }

    [Fact]
    public void Protocol_2_0_is_refused_as_unsupported()
    {
        var result = StartupPacketParser.Parse(Packet(2 << 16, "user", "u", ""));

        Assert.Equal(StartupParseStatus.UnsupportedProtocolVersion, result.Status);
        Assert.Equal("0A000", result.ErrorSqlState);
        Assert.Equal("unsupported frontend protocol 2.0: server supports 3.0 to 3.0", result.ErrorMessage);
    }

    [Fact]
    public void SslRequest_and_GssEncRequest_are_recognised()
    {
        var ssl = StartupPacketParser.Parse(Raw(ProtocolConstants.SslRequestCode, []));
        var gss = StartupPacketParser.Parse(Raw(ProtocolConstants.GssEncRequestCode, []));

        Assert.Equal((StartupParseStatus.Ok, StartupPacketKind.SslRequest, 8), (ssl.Status, ssl.Kind, ssl.PacketLength));
        Assert.Equal((StartupParseStatus.Ok, StartupPacketKind.GssEncRequest, 8), (gss.Status, gss.Kind, gss.PacketLength));
    }

    [Fact]
    public void An_SslRequest_with_extra_bytes_is_an_invalid_length()
    {
        var result = StartupPacketParser.Parse(Raw(ProtocolConstants.SslRequestCode, [0, 0, 0, 0]));

        Assert.Equal(StartupParseStatus.InvalidRequestLength, result.Status);
        Assert.Equal(StartupPacketKind.SslRequest, result.Kind);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(32)]
    [InlineData(256)]
    public void CancelRequest_keeps_keys_of_4_to_256_bytes(int keyLength)
    {
        var packet = Cancel(4242, keyLength);

        var result = StartupParseResultFor(packet);

        Assert.Equal(StartupParseStatus.Ok, result.Status);
        Assert.Equal(StartupPacketKind.CancelRequest, result.Kind);
        Assert.Equal(4242, result.Cancel.ProcessId);
        Assert.Equal(packet[12..], result.Cancel.SecretKey);
        Assert.Equal(packet.Length, result.PacketLength);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(257)]
    public void CancelRequest_with_a_key_outside_4_to_256_bytes_is_refused(int keyLength)
    {
        var result = StartupPacketParser.Parse(Cancel(1, keyLength));

        Assert.Equal(StartupParseStatus.InvalidRequestLength, result.Status);
        Assert.Equal(StartupPacketKind.CancelRequest, result.Kind);
        Assert.Contains("4 to 256 bytes", result.ErrorMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void A_length_below_8_is_refused_before_waiting_for_more(int length)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, length);

        var result = StartupPacketParser.Parse(bytes);

        Assert.Equal(StartupParseStatus.LengthTooSmall, result.Status);
        Assert.Equal("08P01", result.ErrorSqlState);
        Assert.Contains("invalid length of startup packet", result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void An_oversized_packet_is_refused_from_its_length_alone()
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 10001);

        var result = StartupPacketParser.Parse(bytes);

        Assert.Equal(StartupParseStatus.LengthTooLarge, result.Status);
        Assert.Contains("10000", result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_packet_of_exactly_the_maximum_length_is_accepted()
    {
        var filler = new string('x', 10000 - 8 - "user\0u\0options\0\0\0".Length);
        var packet = Packet(ProtocolConstants.ProtocolVersion3, "user", "u", "options", filler, "");
        Assert.Equal(10000, packet.Length);

        Assert.True(StartupPacketParser.Parse(packet).IsOk);
    }

    [Fact]
    public void The_caller_can_lower_the_maximum_length()
    {
        var packet = Packet(ProtocolConstants.ProtocolVersion3, "user", "someone", "");

        Assert.Equal(StartupParseStatus.LengthTooLarge, StartupPacketParser.Parse(packet, maxLength: 16).Status);
    }

    [Fact]
    public void A_truncated_packet_needs_more_data_at_every_cut()
    {
        var packet = Packet(ProtocolConstants.ProtocolVersion3, "user", "alice", "database", "db", "");

        for (var cut = 0; cut < packet.Length; cut++)
        {
            var result = StartupPacketParser.Parse(packet.AsSpan(0, cut));
            Assert.Equal(StartupParseStatus.NeedMoreData, result.Status);
            Assert.False(result.IsError);
        }
    }

    [Fact]
    public void A_packet_split_into_one_byte_segments_parses_like_a_contiguous_one()
    {
        var packet = Packet(ProtocolConstants.ProtocolVersion3, "user", "alice", "database", "db", "");
        var trailing = new byte[] { (byte)'Q', 0, 0, 0, 5 };

        var result = StartupPacketParser.Parse(SegmentedSequence.ByteByByte([.. packet, .. trailing]));

        Assert.True(result.IsOk);
        Assert.Equal(packet.Length, result.PacketLength);
        Assert.Equal("db", result.Startup!.Database);
    }

    [Fact]
    public void A_multi_segment_packet_that_is_incomplete_needs_more_data()
    {
        var packet = Packet(ProtocolConstants.ProtocolVersion3, "user", "alice", "");

        Assert.Equal(StartupParseStatus.NeedMoreData, StartupPacketParser.Parse(SegmentedSequence.Split(packet[..^1], 2, 9)).Status);
        Assert.Equal(StartupParseStatus.NeedMoreData, StartupPacketParser.Parse(SegmentedSequence.Split(packet[..3], 1)).Status);
    }

    [Fact]
    public void A_missing_list_terminator_is_a_layout_error()
    {
        // "user\0alice\0" with no final NUL: the length covers exactly that.
        var result = StartupPacketParser.Parse(Raw(ProtocolConstants.ProtocolVersion3, "user\0alice\0"u8.ToArray()));

        Assert.Equal(StartupParseStatus.MissingTerminator, result.Status);
        Assert.Equal("08P01", result.ErrorSqlState);
    }

    [Fact]
    public void An_empty_parameter_list_without_terminator_is_a_layout_error()
    {
        Assert.Equal(StartupParseStatus.MissingTerminator, StartupPacketParser.Parse(Raw(ProtocolConstants.ProtocolVersion3, [])).Status);
    }

    [Fact]
    public void A_parameter_name_without_value_is_reported_by_name()
    {
        var result = StartupPacketParser.Parse(Raw(ProtocolConstants.ProtocolVersion3, "user\0alice\0database\0"u8.ToArray()));

        Assert.Equal(StartupParseStatus.ParameterWithoutValue, result.Status);
        Assert.Contains("\"database\"", result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unterminated_value_is_a_layout_error()
    {
        var result = StartupPacketParser.Parse(Raw(ProtocolConstants.ProtocolVersion3, "user\0ali"u8.ToArray()));

        Assert.Equal(StartupParseStatus.MissingTerminator, result.Status);
        Assert.Contains("\"user\"", result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unterminated_name_is_a_layout_error()
    {
        Assert.Equal(StartupParseStatus.MissingTerminator,
            StartupPacketParser.Parse(Raw(ProtocolConstants.ProtocolVersion3, "user\0alice\0datab"u8.ToArray())).Status);
    }

    [Fact]
    public void A_length_that_ends_inside_the_parameters_is_a_layout_error_not_a_read_past_the_packet()
    {
        // The full body is valid, but the length field claims 4 bytes fewer: the parser must only look inside the claim.
        var full = Packet(ProtocolConstants.ProtocolVersion3, "user", "alice", "database", "db", "");
        BinaryPrimitives.WriteInt32BigEndian(full, full.Length - 4);

        var result = StartupPacketParser.Parse(full);

        Assert.True(result.IsError);
        Assert.Equal(full.Length - 4, result.PacketLength);
    }

    [Fact]
    public void A_length_that_claims_more_than_was_sent_waits_for_the_rest()
    {
        var full = Packet(ProtocolConstants.ProtocolVersion3, "user", "alice", "");
        BinaryPrimitives.WriteInt32BigEndian(full, full.Length + 100);

        var result = StartupPacketParser.Parse(full);

        Assert.Equal(StartupParseStatus.NeedMoreData, result.Status);
        Assert.Equal(full.Length + 100, result.PacketLength);
    }

    [Fact]
    public void Bytes_after_the_terminator_inside_the_length_are_a_layout_error()
    {
        var result = StartupPacketParser.Parse(Raw(ProtocolConstants.ProtocolVersion3, "user\0alice\0\0junk"u8.ToArray()));

        Assert.Equal(StartupParseStatus.MissingTerminator, result.Status);
        Assert.Contains("expected terminator as last byte", result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_or_empty_user_is_refused_like_PostgreSQL()
    {
        var missing = StartupPacketParser.Parse(Packet(ProtocolConstants.ProtocolVersion3, "database", "d", ""));
        var empty = StartupPacketParser.Parse(Packet(ProtocolConstants.ProtocolVersion3, "user", "", ""));

        Assert.Equal(StartupParseStatus.MissingUser, missing.Status);
        Assert.Equal(StartupParseStatus.MissingUser, empty.Status);
        Assert.Equal("28000", missing.ErrorSqlState);
        Assert.Equal("no PostgreSQL user name specified in startup packet", missing.ErrorMessage);
    }

    [Fact]
    public void Invalid_UTF8_in_a_value_is_refused()
    {
        byte[] body = [.. "user\0"u8, 0xC3, 0x28, 0, 0];

        var result = StartupPacketParser.Parse(Raw(ProtocolConstants.ProtocolVersion3, body));

        Assert.Equal(StartupParseStatus.InvalidUtf8, result.Status);
        Assert.Contains("\"user\"", result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void An_HTTP_request_is_refused_by_its_length()
    {
        // "GET " read as a big-endian length is 1195725856.
        var result = StartupPacketParser.Parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8);

        Assert.Equal(StartupParseStatus.LengthTooLarge, result.Status);
    }

    [Fact]
    public void A_TLS_ClientHello_sent_directly_is_refused()
    {
        // TLS record header: 0x16 0x03 0x01 then a length; as a startup length it is far above 10000.
        byte[] hello = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03];

        Assert.True(StartupPacketParser.Parse(hello).IsError);
    }

    [Fact]
    public void Random_garbage_never_throws_and_never_claims_more_than_it_was_given()
    {
        var random = new Random(20261126);
        var buffer = new byte[300];
        for (var i = 0; i < 20000; i++)
        {
            var length = random.Next(0, buffer.Length);
            random.NextBytes(buffer.AsSpan(0, length));
            if (length >= 8 && random.Next(2) == 0)
            {
                // Make the length plausible so the body parser is exercised, not only the length check.
                BinaryPrimitives.WriteInt32BigEndian(buffer, random.Next(8, length + 1));
                BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(4), ProtocolConstants.MakeVersion(3, random.Next(0, 3)));
            }

            var result = StartupPacketParser.Parse(buffer.AsSpan(0, length));
            if (result.IsOk)
            {
                Assert.InRange(result.PacketLength, 8, length);
            }

            if (result.IsError)
            {
                Assert.False(string.IsNullOrEmpty(result.ErrorMessage));
                Assert.NotNull(result.ErrorSqlState);
            }
        }
    }

    private static StartupParseResult StartupParseResultFor(byte[] packet) =>
        StartupPacketParser.Parse(new ReadOnlySequence<byte>(packet));
}
