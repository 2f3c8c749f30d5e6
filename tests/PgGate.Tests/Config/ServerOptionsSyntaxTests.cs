using PgGate.Config;

namespace PgGate.Tests.Config;

public class ServerOptionsSyntaxTests
{
    private const string Norm =
        "inter 2s fastinter 1s downinter 2s rise 3 fall 3 on-marked-down shutdown-sessions slowstart 30s maxconn 3000 maxqueue 128 weight 100";

    private static readonly SourceLocation Where = new("pigsty.yml", 40, 13);
    private const string Key = "all.children.pg-test.vars.pg_services[0].options";

    private static ServerOptions Parse(string text) => ServerOptionsSyntax.Parse(text, Where, Key);

    [Fact]
    public void Pigsty_norm_line_parses_to_the_norm_defaults_and_formats_back_unchanged()
    {
        var options = Parse(Norm);
        Assert.Equal(ServerOptions.Norm, options);
        Assert.Equal(Norm, ServerOptionsSyntax.Format(options));
    }

    [Theory]
    [InlineData("fast", 1000, 500, 1000)]
    [InlineData("norm", 2000, 1000, 2000)]
    [InlineData("safe", 3000, 1500, 3000)]
    [InlineData("wide", 4000, 2000, 4000)]
    public void Rto_plans_give_pigsty_timers(string plan, int inter, int fastInter, int downInter)
    {
        var text = RtoPlan.PigstyDefaults[plan].OptionsText;
        var options = Parse(text);
        Assert.Equal(TimeSpan.FromMilliseconds(inter), options.Inter);
        Assert.Equal(TimeSpan.FromMilliseconds(fastInter), options.FastInter);
        Assert.Equal(TimeSpan.FromMilliseconds(downInter), options.DownInter);
        Assert.Equal(3, options.Rise);
        Assert.Equal(3, options.Fall);
        Assert.True(options.ShutdownSessionsOnMarkedDown);
        Assert.Equal(TimeSpan.FromSeconds(30), options.SlowStart);
        Assert.Equal(3000, options.MaxConn);
        Assert.Equal(128, options.MaxQueue);
        Assert.Equal(100, options.Weight);
    }

    [Fact]
    public void Rto_plan_lines_are_pigsty_text()
    {
        Assert.Equal(Norm, RtoPlan.PigstyDefaults["norm"].OptionsText);
        Assert.Equal(
            "inter 1s fastinter 0.5s downinter 1s rise 3 fall 3 on-marked-down shutdown-sessions slowstart 30s maxconn 3000 maxqueue 128 weight 100",
            RtoPlan.PigstyDefaults["fast"].OptionsText);
        Assert.Equal(
            "inter 1s fastinter 500ms downinter 1s rise 3 fall 3 on-marked-down shutdown-sessions slowstart 30s maxconn 3000 maxqueue 128 weight 100",
            ServerOptionsSyntax.Format(Parse(RtoPlan.PigstyDefaults["fast"].OptionsText)));
    }

    [Fact]
    public void A_partial_line_takes_haproxy_defaults_for_the_rest_as_haproxy_does()
    {
        var options = Parse("inter 3s rise 5");
        Assert.Equal(TimeSpan.FromSeconds(3), options.Inter);
        Assert.Equal(TimeSpan.FromSeconds(3), options.FastInter); // fastinter defaults to inter
        Assert.Equal(TimeSpan.FromSeconds(3), options.DownInter); // downinter defaults to inter
        Assert.Equal(5, options.Rise);
        Assert.Equal(3, options.Fall);
        Assert.False(options.ShutdownSessionsOnMarkedDown);
        Assert.Equal(TimeSpan.Zero, options.SlowStart);
        Assert.Equal(0, options.MaxConn);
        Assert.Equal(0, options.MaxQueue);
        Assert.Equal(1, options.Weight);
        Assert.Equal("inter 3s fastinter 3s downinter 3s rise 5 fall 3 maxconn 0 maxqueue 0 weight 1", ServerOptionsSyntax.Format(options));
    }

    [Fact]
    public void Check_is_accepted_and_the_check_timeout_comes_from_the_caller()
    {
        var options = ServerOptionsSyntax.Parse("check inter 1s", Where, Key, TimeSpan.FromSeconds(5));
        Assert.Equal(TimeSpan.FromSeconds(1), options.Inter);
        Assert.Equal(TimeSpan.FromSeconds(5), options.CheckTimeout);
    }

    [Fact]
    public void Pigsty_documented_older_line_parses()
    {
        var options = Parse("inter 3s fastinter 1s downinter 5s rise 3 fall 3 on-marked-down shutdown-sessions slowstart 30s maxconn 3000 maxqueue 128 weight 100");
        Assert.Equal(TimeSpan.FromSeconds(5), options.DownInter);
    }

    [Fact]
    public void An_unknown_keyword_is_named_with_the_supported_ones()
    {
        var e = Assert.Throws<ConfigException>(() => Parse("inter 2s resolvers dns"));
        Assert.Equal(
            "pigsty.yml:40:13: all.children.pg-test.vars.pg_services[0].options: unknown server option 'resolvers'; supported keywords: " +
            "inter, fastinter, downinter, rise, fall, on-marked-down, slowstart, maxconn, maxqueue, weight, check",
            e.Message);
    }

    [Fact]
    public void A_misspelt_keyword_gets_a_suggestion()
    {
        var e = Assert.Throws<ConfigException>(() => Parse("fastintr 1s"));
        Assert.Contains("unknown server option 'fastintr' (did you mean 'fastinter'?)", e.Message);
    }

    [Fact]
    public void On_marked_up_is_refused_with_the_supported_list()
    {
        var e = Assert.Throws<ConfigException>(() => Parse("on-marked-up shutdown-backup-sessions"));
        Assert.StartsWith("pigsty.yml:40:13: all.children.pg-test.vars.pg_services[0].options: on-marked-up is not supported by PgGate", e.Message);
        Assert.Contains("Supported keywords: inter, fastinter", e.Message);
    }

    [Theory]
    [InlineData("on-marked-down mark-backup", "on-marked-down mark-backup is not supported; the only action is on-marked-down shutdown-sessions")]
    [InlineData("rise", "'rise' needs a value, e.g. 'rise 1'")]
    [InlineData("rise 0", "rise expects an integer 1-1000000, found \"0\"")]
    [InlineData("fall x", "fall expects an integer 1-1000000, found \"x\"")]
    [InlineData("weight 300", "weight expects an integer 0-256, found \"300\"")]
    [InlineData("maxconn -1", "maxconn expects an integer >= 0, found \"-1\"")]
    [InlineData("inter 0", "inter must be greater than 0, found 0")]
    [InlineData("inter 2q", "inter 2q: unknown time unit 'q'; use us, ms, s, m, h or d (HAProxy time format: 500ms, 2s, 1m)")]
    public void Bad_values_say_what_was_expected(string text, string problem)
    {
        var e = Assert.Throws<ConfigException>(() => Parse(text));
        Assert.Equal("pigsty.yml:40:13: all.children.pg-test.vars.pg_services[0].options: " + problem, e.Message);
    }
}
