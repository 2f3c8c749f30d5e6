using PgGate.Config;

namespace PgGate.Tests.Config;

public class HaproxyTimeTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("2s", 2000)]
    [InlineData("1m", 60_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1d", 86_400_000)]
    [InlineData("1500", 1500)]
    [InlineData("0", 0)]
    [InlineData("0.5s", 500)]
    [InlineData("1.5s", 1500)]
    public void Parses_haproxy_time_values(string text, int milliseconds)
    {
        Assert.True(HaproxyTime.TryParse(text, out var value, out var error), error);
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Fact]
    public void Microseconds_are_kept()
    {
        Assert.Equal(TimeSpan.FromMicroseconds(250), HaproxyTime.Parse("250us"));
    }

    [Theory]
    [InlineData("", "empty duration")]
    [InlineData("2x", "unknown time unit 'x'; use us, ms, s, m, h or d")]
    [InlineData("s", "a duration starts with a number, e.g. 500ms, 2s, 1m")]
    [InlineData("-1s", "a duration starts with a number, e.g. 500ms, 2s, 1m")]
    [InlineData("1.2.3s", "a duration starts with a number, e.g. 500ms, 2s, 1m")]
    [InlineData("25d", "the duration is too long; HAProxy's limit is 24.8 days (2147483647ms)")]
    public void Rejects_what_haproxy_rejects_with_a_reason(string text, string reason)
    {
        Assert.False(HaproxyTime.TryParse(text, out _, out var error));
        Assert.Equal(reason, error);
    }

    [Theory]
    [InlineData(2000, "2s")]
    [InlineData(500, "500ms")]
    [InlineData(1500, "1500ms")]
    [InlineData(30_000, "30s")]
    [InlineData(60_000, "1m")]
    [InlineData(7_200_000, "2h")]
    [InlineData(86_400_000, "1d")]
    [InlineData(0, "0")]
    public void Formats_in_the_largest_exact_unit(int milliseconds, string text)
    {
        Assert.Equal(text, HaproxyTime.Format(TimeSpan.FromMilliseconds(milliseconds)));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), HaproxyTime.Parse(text));
    }
}
