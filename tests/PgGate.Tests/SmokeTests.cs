namespace PgGate.Tests;

public class SmokeTests
{
    [Fact]
    public void Configuration_defaults_are_pigsty_norm()
    {
        var o = PgGate.Config.ServerOptions.Norm;
        Assert.Equal(TimeSpan.FromSeconds(2), o.Inter);
        Assert.Equal(3, o.Rise);
    }
}
