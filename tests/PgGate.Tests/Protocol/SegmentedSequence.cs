using System.Buffers;

namespace PgGate.Tests.Protocol;

/// <summary>Builds a <see cref="ReadOnlySequence{T}"/> from several arrays, as a PipeReader hands out data split across segments.</summary>
internal static class SegmentedSequence
{
    public static ReadOnlySequence<byte> Create(params byte[][] segments)
    {
        if (segments.Length == 1)
        {
            return new ReadOnlySequence<byte>(segments[0]);
        }

        var first = new Segment(segments[0], 0);
        var last = first;
        for (var i = 1; i < segments.Length; i++)
        {
            last = last.Append(segments[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Splits <paramref name="bytes"/> into segments at the given offsets.</summary>
    public static ReadOnlySequence<byte> Split(byte[] bytes, params int[] cuts)
    {
        var parts = new byte[cuts.Length + 1][];
        var start = 0;
        for (var i = 0; i < cuts.Length; i++)
        {
            parts[i] = bytes[start..cuts[i]];
            start = cuts[i];
        }

        parts[^1] = bytes[start..];
        return Create(parts);
    }

    /// <summary>One segment per byte: the worst case for any reader.</summary>
    public static ReadOnlySequence<byte> ByteByByte(byte[] bytes)
    {
        var parts = new byte[bytes.Length][];
        for (var i = 0; i < bytes.Length; i++)
        {
            parts[i] = [bytes[i]];
        }

        return Create(parts);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
