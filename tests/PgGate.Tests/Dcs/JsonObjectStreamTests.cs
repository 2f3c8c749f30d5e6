using System.Text;
using PgGate.Cluster.Dcs;

namespace PgGate.Tests.Dcs;

public sealed class JsonObjectStreamTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Objects_arriving_one_byte_at_a_time_come_out_whole()
    {
        const string Text = "{\"a\":1}\n{\"b\":{\"c\":\"}{\\\"\"}}\n\r\n  {\"d\":[1,2,{\"e\":null}]}";
        var reader = new JsonObjectStream(new TrickleStream(Encoding.UTF8.GetBytes(Text), chunk: 1));
        Assert.Equal("{\"a\":1}", await NextAsync(reader));
        Assert.Equal("{\"b\":{\"c\":\"}{\\\"\"}}", await NextAsync(reader));
        Assert.Equal("{\"d\":[1,2,{\"e\":null}]}", await NextAsync(reader));
        Assert.Equal("", await NextAsync(reader));
    }

    [Fact]
    public async Task Several_objects_in_one_read_come_out_one_by_one()
    {
        var reader = new JsonObjectStream(new MemoryStream(Encoding.UTF8.GetBytes("{\"a\":1}{\"b\":2}\n{\"c\":3}\n")));
        Assert.Equal("{\"a\":1}", await NextAsync(reader));
        Assert.Equal("{\"b\":2}", await NextAsync(reader));
        Assert.Equal("{\"c\":3}", await NextAsync(reader));
        Assert.Equal("", await NextAsync(reader));
    }

    [Fact]
    public async Task An_object_larger_than_the_buffer_grows_it()
    {
        var big = "{\"v\":\"" + new string('x', 100_000) + "\"}";
        var reader = new JsonObjectStream(new TrickleStream(Encoding.UTF8.GetBytes(big + "\n{}"), chunk: 7000));
        Assert.Equal(big, await NextAsync(reader));
        Assert.Equal("{}", await NextAsync(reader));
    }

    [Fact]
    public async Task A_stream_ending_inside_an_object_is_an_error()
    {
        var reader = new JsonObjectStream(new MemoryStream(Encoding.UTF8.GetBytes("{\"a\":1}\n{\"b\":")));
        Assert.Equal("{\"a\":1}", await NextAsync(reader));
        var error = await Assert.ThrowsAsync<EtcdException>(() => NextAsync(reader));
        Assert.Contains("ended inside a JSON object", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[1,2]", "StartArray")]
    [InlineData("\"text\"", "String")]
    [InlineData("<html>", "not JSON")]
    public async Task Anything_but_objects_is_an_error(string text, string expected)
    {
        var reader = new JsonObjectStream(new MemoryStream(Encoding.UTF8.GetBytes(text)));
        var error = await Assert.ThrowsAsync<EtcdException>(() => NextAsync(reader));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_endless_object_is_cut_off()
    {
        var endless = new TrickleStream(Encoding.UTF8.GetBytes("{\"v\":\"" + new string('x', JsonObjectStream.MaxObjectBytes + 10)), chunk: 1 << 16);
        var error = await Assert.ThrowsAsync<EtcdException>(() => NextAsync(new JsonObjectStream(endless)));
        Assert.Contains("exceeds", error.Message, StringComparison.Ordinal);
    }

    private static async Task<string> NextAsync(JsonObjectStream reader) =>
        Encoding.UTF8.GetString((await reader.ReadObjectAsync(Cancel)).Span);

    /// <summary>Hands out at most <c>chunk</c> bytes per read, as a network stream may.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, chunk), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
