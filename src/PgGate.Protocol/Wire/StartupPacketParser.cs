using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace PgGate.Protocol;

/// <summary>
/// Parses the first packet of a connection (StartupMessage, SSLRequest, GSSENCRequest or CancelRequest), which has no
/// type byte. Checks follow PostgreSQL's ProcessStartupPacket, and every problem is a result the listener can turn
/// into an ErrorResponse, never an exception.
/// </summary>
public static class StartupPacketParser
{
    private const int MinimumLength = 8;
    private const int CancelHeaderLength = 12;

    public static StartupParseResult Parse(in ReadOnlySequence<byte> buffer, int maxLength = ProtocolConstants.MaxStartupPacketLength)
    {
        if (buffer.IsSingleSegment)
        {
            return Parse(buffer.FirstSpan, maxLength);
        }

        if (buffer.Length < 4)
        {
            return StartupParseResult.NeedMore(0);
        }

        Span<byte> lengthBytes = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(lengthBytes);
        var length = BinaryPrimitives.ReadInt32BigEndian(lengthBytes);
        var lengthCheck = CheckLength(length, maxLength);
        if (lengthCheck.HasValue)
        {
            return lengthCheck.Value;
        }

        if (buffer.Length < length)
        {
            return StartupParseResult.NeedMore(length);
        }

        // The packet is bounded by maxLength (10000 bytes by default) and arrives once per connection.
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            buffer.Slice(0, length).CopyTo(rented);
            return ParseComplete(rented.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static StartupParseResult Parse(ReadOnlySpan<byte> buffer, int maxLength = ProtocolConstants.MaxStartupPacketLength)
    {
        if (buffer.Length < 4)
        {
            return StartupParseResult.NeedMore(0);
        }

        var length = BinaryPrimitives.ReadInt32BigEndian(buffer);
        var lengthCheck = CheckLength(length, maxLength);
        if (lengthCheck.HasValue)
        {
            return lengthCheck.Value;
        }

        return buffer.Length < length ? StartupParseResult.NeedMore(length) : ParseComplete(buffer.Slice(0, length));
    }

    private static StartupParseResult? CheckLength(int length, int maxLength)
    {
        if (length < MinimumLength)
        {
            return StartupParseResult.Error(
                StartupParseStatus.LengthTooSmall, StartupPacketKind.None, length, SqlState.ProtocolViolation,
                $"invalid length of startup packet: {length} bytes; a startup packet is at least {MinimumLength} bytes");
        }

        if (length > maxLength)
        {
            return StartupParseResult.Error(
                StartupParseStatus.LengthTooLarge, StartupPacketKind.None, length, SqlState.ProtocolViolation,
                $"invalid length of startup packet: {length} bytes exceeds the limit of {maxLength} bytes");
        }

        return null;
    }

    private static StartupParseResult ParseComplete(ReadOnlySpan<byte> packet)
    {
        var length = packet.Length;
        var version = BinaryPrimitives.ReadInt32BigEndian(packet.Slice(4));
        switch (version)
        {
            case ProtocolConstants.SslRequestCode:
                return length == MinimumLength
                    ? StartupParseResult.Simple(StartupPacketKind.SslRequest, length)
                    : InvalidRequestLength(StartupPacketKind.SslRequest, length, "SSLRequest must be 8 bytes");
            case ProtocolConstants.GssEncRequestCode:
                return length == MinimumLength
                    ? StartupParseResult.Simple(StartupPacketKind.GssEncRequest, length)
                    : InvalidRequestLength(StartupPacketKind.GssEncRequest, length, "GSSENCRequest must be 8 bytes");
            case ProtocolConstants.CancelRequestCode:
                return ParseCancel(packet);
        }

        if (ProtocolConstants.MajorVersion(version) != ProtocolConstants.SupportedMajorVersion)
        {
            return StartupParseResult.Error(
                StartupParseStatus.UnsupportedProtocolVersion, StartupPacketKind.Startup, length, SqlState.FeatureNotSupported,
                $"unsupported frontend protocol {ProtocolConstants.MajorVersion(version)}.{ProtocolConstants.MinorVersion(version)}: " +
                $"server supports {ProtocolConstants.SupportedMajorVersion}.0 to " +
                $"{ProtocolConstants.SupportedMajorVersion}.{ProtocolConstants.LatestSupportedMinorVersion}");
        }

        return ParseStartup(packet.Slice(MinimumLength), version, length);
    }

    private static StartupParseResult ParseCancel(ReadOnlySpan<byte> packet)
    {
        var keyLength = packet.Length - CancelHeaderLength;
        if (keyLength < ProtocolConstants.MinCancelKeyLength || keyLength > ProtocolConstants.MaxCancelKeyLength)
        {
            return InvalidRequestLength(
                StartupPacketKind.CancelRequest, packet.Length,
                $"CancelRequest must carry a secret key of {ProtocolConstants.MinCancelKeyLength} to " +
                $"{ProtocolConstants.MaxCancelKeyLength} bytes, but this one has {Math.Max(keyLength, 0)}");
        }

        var processId = BinaryPrimitives.ReadInt32BigEndian(packet.Slice(8));
        var key = packet.Slice(CancelHeaderLength).ToArray();
        return StartupParseResult.ForCancel(new CancelRequest(processId, key), packet.Length);
    }

    private static StartupParseResult ParseStartup(ReadOnlySpan<byte> body, int version, int length)
    {
        var parameters = new List<KeyValuePair<string, string>>(8);
        List<KeyValuePair<string, string>>? protocolOptions = null;
        var position = 0;
        while (true)
        {
            var rest = body.Slice(position);
            var nameEnd = rest.IndexOf((byte)0);
            if (nameEnd < 0)
            {
                return LayoutError(StartupParseStatus.MissingTerminator, length,
                    rest.IsEmpty
                        ? "invalid startup packet layout: expected terminator as last byte"
                        : $"invalid startup packet layout: parameter name at offset {MinimumLength + position} is not NUL-terminated");
            }

            if (nameEnd == 0)
            {
                // The empty name is the list terminator, and PostgreSQL requires it to be the packet's last byte.
                return position == body.Length - 1
                    ? Finish(parameters, protocolOptions, version, length)
                    : LayoutError(StartupParseStatus.MissingTerminator, length,
                        $"invalid startup packet layout: expected terminator as last byte, found {body.Length - 1 - position} more bytes after it");
            }

            var nameBytes = rest.Slice(0, nameEnd);
            var valueStart = rest.Slice(nameEnd + 1);
            if (valueStart.IsEmpty)
            {
                return LayoutError(StartupParseStatus.ParameterWithoutValue, length,
                    $"invalid startup packet layout: parameter \"{Describe(nameBytes)}\" has no value");
            }

            var valueEnd = valueStart.IndexOf((byte)0);
            if (valueEnd < 0)
            {
                return LayoutError(StartupParseStatus.MissingTerminator, length,
                    $"invalid startup packet layout: value of parameter \"{Describe(nameBytes)}\" is not NUL-terminated");
            }

            var valueBytes = valueStart.Slice(0, valueEnd);
            if (!TryDecode(nameBytes, out var name) || !TryDecode(valueBytes, out var value))
            {
                return StartupParseResult.Error(
                    StartupParseStatus.InvalidUtf8, StartupPacketKind.Startup, length, SqlState.ProtocolViolation,
                    $"invalid startup packet: parameter \"{Describe(nameBytes)}\" is not valid UTF-8");
            }

            var pair = new KeyValuePair<string, string>(name, value);
            if (name.StartsWith(ProtocolConstants.ProtocolOptionPrefix, StringComparison.Ordinal))
            {
                (protocolOptions ??= []).Add(pair);
            }
            else
            {
                parameters.Add(pair);
            }

            position += nameEnd + 1 + valueEnd + 1;
        }
    }

    private static StartupParseResult Finish(
        List<KeyValuePair<string, string>> parameters,
        List<KeyValuePair<string, string>>? protocolOptions,
        int version,
        int length)
    {
        var startup = new StartupMessage(version, parameters, protocolOptions);
        if (startup.User.Length == 0)
        {
            return StartupParseResult.Error(
                StartupParseStatus.MissingUser, StartupPacketKind.Startup, length, SqlState.InvalidAuthorizationSpecification,
                "no PostgreSQL user name specified in startup packet");
        }

        return StartupParseResult.ForStartup(startup, length);
    }

    private static StartupParseResult InvalidRequestLength(StartupPacketKind kind, int length, string what) =>
        StartupParseResult.Error(
            StartupParseStatus.InvalidRequestLength, kind, length, SqlState.ProtocolViolation,
            $"invalid length of startup packet: {what}, got {length} bytes");

    private static StartupParseResult LayoutError(StartupParseStatus status, int length, string message) =>
        StartupParseResult.Error(status, StartupPacketKind.Startup, length, SqlState.ProtocolViolation, message);

    private static bool TryDecode(ReadOnlySpan<byte> bytes, out string value)
    {
        if (Utf8.IsValid(bytes))
        {
            value = Encoding.UTF8.GetString(bytes);
            return true;
        }

        value = string.Empty;
        return false;
    }

    /// <summary>A parameter name for an error message: decoded leniently and cut short, since it came from a stranger.</summary>
    private static string Describe(ReadOnlySpan<byte> name)
    {
        const int MaxShown = 64;
        var text = Encoding.UTF8.GetString(name.Length > MaxShown ? name.Slice(0, MaxShown) : name);
        return name.Length > MaxShown ? text + "..." : text;
    }
}
