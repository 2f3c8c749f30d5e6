using System.Buffers.Binary;
using System.Text;
using PgGate.Pooling.Console;

namespace PgGate.Pooling.Sessions;

/// <summary>An admin console client's prepared statements and portals (extended query protocol).</summary>
internal sealed class ConsoleExtendedState
{
    public Dictionary<string, string> Statements { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, ConsolePortal> Portals { get; } = new(StringComparer.Ordinal);

    /// <summary>After an error, messages are ignored until Sync.</summary>
    public bool SkipUntilSync { get; set; }

    /// <summary>Bind's names and result format codes; false when it is malformed or carries parameters.</summary>
    public static bool TryReadBind(ReadOnlySpan<byte> payload, out string portal, out string statement, out short[] resultFormats)
    {
        statement = string.Empty;
        resultFormats = [];
        var position = 0;
        if (!TryReadCString(payload, ref position, out portal) || !TryReadCString(payload, ref position, out statement)
            || !TryReadInt16(payload, ref position, out var parameterFormats) || parameterFormats < 0
            || payload.Length < position + 2 * parameterFormats)
        {
            return false;
        }

        position += 2 * parameterFormats;
        if (!TryReadInt16(payload, ref position, out var parameters) || parameters != 0
            || !TryReadInt16(payload, ref position, out var formatCount) || formatCount < 0)
        {
            return false;
        }

        resultFormats = new short[formatCount];
        for (var i = 0; i < formatCount; i++)
        {
            if (!TryReadInt16(payload, ref position, out resultFormats[i]) || resultFormats[i] is not (0 or 1))
            {
                return false;
            }
        }

        return position == payload.Length;
    }

    private static bool TryReadCString(ReadOnlySpan<byte> payload, ref int position, out string value)
    {
        var end = payload.Slice(position).IndexOf((byte)0);
        if (end < 0)
        {
            value = string.Empty;
            return false;
        }

        value = Encoding.UTF8.GetString(payload.Slice(position, end));
        position += end + 1;
        return true;
    }

    private static bool TryReadInt16(ReadOnlySpan<byte> payload, ref int position, out short value)
    {
        if (payload.Length < position + 2)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadInt16BigEndian(payload.Slice(position));
        position += 2;
        return true;
    }
}

/// <summary>A bound console command; <see cref="Result"/> holds a SHOW's answer computed at Describe for Execute.</summary>
internal sealed class ConsolePortal(string query, short[] formats)
{
    public string Query { get; } = query;

    public short[] Formats { get; } = formats;

    public ConsoleReply? Result { get; set; }
}
