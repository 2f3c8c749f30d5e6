using PgGate.Pooling.Console;

namespace PgGate.Tests.Pooling;

/// <summary>How the admin console reads a command line.</summary>
public sealed class ConsoleCommandTests
{
    [Theory]
    [InlineData("SHOW POOLS", "SHOW", "POOLS", null)]
    [InlineData("show pools;", "SHOW", "POOLS", null)]
    [InlineData("  Show Stats_Totals ;; ", "SHOW", "STATS_TOTALS", null)]
    [InlineData("pause", "PAUSE", null, null)]
    [InlineData("PAUSE mydb", "PAUSE", "mydb", null)]
    [InlineData("kill \"My DB\"", "KILL", "My DB", null)]
    [InlineData("SET default_pool_size = 30", "SET", "default_pool_size", "30")]
    [InlineData("set DEFAULT_POOL_SIZE to 30;", "SET", "default_pool_size", "30")]
    [InlineData("SET server_reset_query = 'DISCARD ALL'", "SET", "server_reset_query", "DISCARD ALL")]
    [InlineData("SET admin_users = 'a, it''s'", "SET", "admin_users", "a, it's")]
    public void Commands_are_read_case_insensitively_with_quoted_names_and_values(string query, string verb, string? argument, string? value)
    {
        var command = ConsoleCommand.Parse(query);

        Assert.Equal(new ConsoleCommand(verb, argument, value), command);
    }

    [Theory]
    [InlineData("")]
    [InlineData(";")]
    [InlineData("show pools; show version")]
    [InlineData("select 1 from x")]
    [InlineData("SET x")]
    [InlineData("SET x = 'unclosed")]
    [InlineData("PAUSE a b")]
    public void Anything_else_is_not_a_command(string query) => Assert.Null(ConsoleCommand.Parse(query));
}
