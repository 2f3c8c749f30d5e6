using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace PgGate.Protocol;

/// <summary>The extended-query messages (Parse, Bind, Describe, Execute, Close).</summary>
public static partial class FrontendMessageWriter
{
    /// <summary>Parse: prepares <paramref name="query"/> as <paramref name="statementName"/> ("" is the unnamed statement).</summary>
    public static void WriteParse(
        IBufferWriter<byte> writer, string statementName, string query, ReadOnlySpan<uint> parameterTypeOids = default)
    {
        CheckCount(parameterTypeOids.Length, nameof(parameterTypeOids));
        var nameLength = WireEncoding.CStringLength(statementName, nameof(statementName));
        var queryLength = WireEncoding.CStringLength(query, nameof(query));
        var span = WireEncoding.BeginMessage(
            writer, FrontendMessageCode.Parse, checked(nameLength + queryLength + 2 + 4 * parameterTypeOids.Length));
        var position = 5;
        position += WireEncoding.WriteCString(span.Slice(position), statementName);
        position += WireEncoding.WriteCString(span.Slice(position), query);
        BinaryPrimitives.WriteInt16BigEndian(span.Slice(position), (short)parameterTypeOids.Length);
        position += 2;
        foreach (var oid in parameterTypeOids)
        {
            BinaryPrimitives.WriteUInt32BigEndian(span.Slice(position), oid);
            position += 4;
        }

        writer.Advance(position);
    }

    /// <summary>Bind with text-format parameters (null is SQL NULL) and the given result formats (empty: all text).</summary>
    public static void WriteBind(
        IBufferWriter<byte> writer,
        string portalName,
        string statementName,
        ReadOnlySpan<string?> textParameters,
        ReadOnlySpan<short> resultFormatCodes = default)
    {
        CheckCount(textParameters.Length, nameof(textParameters));
        CheckCount(resultFormatCodes.Length, nameof(resultFormatCodes));
        var portalLength = WireEncoding.CStringLength(portalName, nameof(portalName));
        var statementLength = WireEncoding.CStringLength(statementName, nameof(statementName));
        var payloadLength = portalLength + statementLength + 2 + 2 + 2 + 2 * resultFormatCodes.Length;
        foreach (var value in textParameters)
        {
            payloadLength = checked(payloadLength + 4 + (value is null ? 0 : Encoding.UTF8.GetByteCount(value)));
        }

        var span = WireEncoding.BeginMessage(writer, FrontendMessageCode.Bind, payloadLength);
        var position = WriteBindNames(span, portalName, statementName);
        BinaryPrimitives.WriteInt16BigEndian(span.Slice(position), 0); // no format codes: all parameters are text
        BinaryPrimitives.WriteInt16BigEndian(span.Slice(position + 2), (short)textParameters.Length);
        position += 4;
        foreach (var value in textParameters)
        {
            if (value is null)
            {
                BinaryPrimitives.WriteInt32BigEndian(span.Slice(position), -1);
                position += 4;
                continue;
            }

            var count = Encoding.UTF8.GetBytes(value, span.Slice(position + 4));
            BinaryPrimitives.WriteInt32BigEndian(span.Slice(position), count);
            position += 4 + count;
        }

        position = WriteFormatCodes(span, position, resultFormatCodes);
        writer.Advance(position);
    }

    /// <summary>Bind with parameters already encoded (null is SQL NULL) in the formats given by <paramref name="parameterFormatCodes"/>.</summary>
    public static void WriteBind(
        IBufferWriter<byte> writer,
        string portalName,
        string statementName,
        ReadOnlySpan<short> parameterFormatCodes,
        IReadOnlyList<ReadOnlyMemory<byte>?> parameterValues,
        ReadOnlySpan<short> resultFormatCodes = default)
    {
        CheckCount(parameterFormatCodes.Length, nameof(parameterFormatCodes));
        CheckCount(parameterValues.Count, nameof(parameterValues));
        CheckCount(resultFormatCodes.Length, nameof(resultFormatCodes));
        var portalLength = WireEncoding.CStringLength(portalName, nameof(portalName));
        var statementLength = WireEncoding.CStringLength(statementName, nameof(statementName));
        var payloadLength = portalLength + statementLength + 2 + 2 * parameterFormatCodes.Length + 2 + 2 + 2 * resultFormatCodes.Length;
        for (var i = 0; i < parameterValues.Count; i++)
        {
            payloadLength = checked(payloadLength + 4 + (parameterValues[i]?.Length ?? 0));
        }

        var span = WireEncoding.BeginMessage(writer, FrontendMessageCode.Bind, payloadLength);
        var position = WriteBindNames(span, portalName, statementName);
        position = WriteFormatCodes(span, position, parameterFormatCodes);
        BinaryPrimitives.WriteInt16BigEndian(span.Slice(position), (short)parameterValues.Count);
        position += 2;
        for (var i = 0; i < parameterValues.Count; i++)
        {
            var value = parameterValues[i];
            if (value is null)
            {
                BinaryPrimitives.WriteInt32BigEndian(span.Slice(position), -1);
                position += 4;
                continue;
            }

            BinaryPrimitives.WriteInt32BigEndian(span.Slice(position), value.Value.Length);
            value.Value.Span.CopyTo(span.Slice(position + 4));
            position += 4 + value.Value.Length;
        }

        position = WriteFormatCodes(span, position, resultFormatCodes);
        writer.Advance(position);
    }

    /// <summary>Describe a statement (<see cref="FrontendMessageCode.TargetStatement"/>) or portal (<see cref="FrontendMessageCode.TargetPortal"/>).</summary>
    public static void WriteDescribe(IBufferWriter<byte> writer, byte target, string name) =>
        WriteTargetMessage(writer, FrontendMessageCode.Describe, target, name);

    /// <summary>Close a statement (<see cref="FrontendMessageCode.TargetStatement"/>) or portal (<see cref="FrontendMessageCode.TargetPortal"/>).</summary>
    public static void WriteClose(IBufferWriter<byte> writer, byte target, string name) =>
        WriteTargetMessage(writer, FrontendMessageCode.Close, target, name);

    /// <summary>Execute a portal; <paramref name="maxRows"/> 0 means all rows.</summary>
    public static void WriteExecute(IBufferWriter<byte> writer, string portalName, int maxRows = 0)
    {
        var portalLength = WireEncoding.CStringLength(portalName, nameof(portalName));
        var span = WireEncoding.BeginMessage(writer, FrontendMessageCode.Execute, portalLength + 4);
        var position = 5 + WireEncoding.WriteCString(span.Slice(5), portalName);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(position), maxRows);
        writer.Advance(position + 4);
    }

    private static void WriteTargetMessage(IBufferWriter<byte> writer, byte code, byte target, string name)
    {
        if (target != FrontendMessageCode.TargetStatement && target != FrontendMessageCode.TargetPortal)
        {
            throw new ArgumentException("The target must be 'S' (statement) or 'P' (portal).", nameof(target));
        }

        var nameLength = WireEncoding.CStringLength(name, nameof(name));
        var span = WireEncoding.BeginMessage(writer, code, 1 + nameLength);
        span[5] = target;
        WireEncoding.WriteCString(span.Slice(6), name);
        writer.Advance(6 + nameLength);
    }

    private static int WriteBindNames(Span<byte> span, string portalName, string statementName)
    {
        var position = 5;
        position += WireEncoding.WriteCString(span.Slice(position), portalName);
        position += WireEncoding.WriteCString(span.Slice(position), statementName);
        return position;
    }

    private static int WriteFormatCodes(Span<byte> span, int position, ReadOnlySpan<short> formatCodes)
    {
        BinaryPrimitives.WriteInt16BigEndian(span.Slice(position), (short)formatCodes.Length);
        position += 2;
        foreach (var code in formatCodes)
        {
            BinaryPrimitives.WriteInt16BigEndian(span.Slice(position), code);
            position += 2;
        }

        return position;
    }

    private static void CheckCount(int count, string paramName)
    {
        if (count > short.MaxValue)
        {
            throw new ArgumentException($"The protocol allows at most {short.MaxValue} items here, got {count}.", paramName);
        }
    }
}
