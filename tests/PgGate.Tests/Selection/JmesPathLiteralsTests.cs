using PgGate.Services.Selection;

namespace PgGate.Tests.Selection;

public class JmesPathLiteralsTests
{
    [Theory]
    [InlineData("[? pg_role == `primary`]", "[? pg_role == `\"primary\"`]")]
    [InlineData("[? a == `primary` || b == `offline` ]", "[? a == `\"primary\"` || b == `\"offline\"` ]")]
    [InlineData("[? a == ` primary`]", "[? a == `\"primary\"`]")]
    [InlineData("[? a == `primary `]", "[? a == `\"primary \"`]")]
    [InlineData("[? a == `a\\`b`]", "[? a == `\"a\\u0060b\"`]")]
    [InlineData("[? a == `pg-test`]", "[? a == `\"pg-test\"`]")]
    [InlineData("[? a == `1a`]", "[? a == `\"1a\"`]")]
    [InlineData("[? a == ``]", "[? a == `\"\"`]")]
    public void Non_json_literals_become_the_json_string_python_reads(string written, string rewritten)
    {
        Assert.Equal(rewritten, JmesPathLiterals.Rewrite(written));
    }

    [Theory]
    [InlineData("[? a == `true`]")]
    [InlineData("[? a == `1`]")]
    [InlineData("[? a == `\"x\"`]")]
    [InlineData("[? a == `[1, 2]`]")]
    [InlineData("[? a == `{\"k\": null}`]")]
    [InlineData("[? a == '`not a literal`']")]
    [InlineData("[? \"odd`key\" == 'x']")]
    [InlineData("[]")]
    public void Json_literals_and_backticks_inside_strings_are_left_alone(string expression)
    {
        Assert.Equal(expression, JmesPathLiterals.Rewrite(expression));
    }

    [Fact]
    public void A_literal_holding_a_double_quote_is_rejected_like_python_does()
    {
        Assert.Throws<FormatException>(() => JmesPathLiterals.Rewrite("[? a == `pri\"mary`]"));
    }
}
