using PgGate.Config;
using PgGate.Services.Selection;
using static PgGate.Tests.Selection.MemberDocs;

namespace PgGate.Tests.Selection;

public class MemberSelectorTests
{
    private static readonly SourceLocation Where = new("pggate.yml", 12, 7);
    private const string Key = "clusters.pg-test.services[1].selector";

    private static readonly IReadOnlyList<IReadOnlyDictionary<string, object?>> PgTest = List(
        Member("pg-test-1", 1, "primary"),
        Member("pg-test-2", 2, "replica"),
        Member("pg-test-3", 3, "replica", offlineQuery: true),
        Member("pg-test-4", 4, "offline"));

    private static IReadOnlyList<string> Select(string expression, IReadOnlyList<IReadOnlyDictionary<string, object?>>? members = null) =>
        MemberSelector.Compile(expression, Where, Key).Select(members ?? PgTest);

    [Fact]
    public void Pigsty_bare_word_literals_compare_as_strings()
    {
        Assert.Equal(["pg-test-1", "pg-test-4"], Select("[? pg_role == `primary` || pg_role == `offline` ]"));
        Assert.Equal(["pg-test-2", "pg-test-3"], Select("[? pg_role == `replica`]"));
    }

    [Fact]
    public void Json_literals_and_raw_strings_mean_the_same_as_bare_words()
    {
        Assert.Equal(["pg-test-1"], Select("[? pg_role == `\"primary\"`]"));
        Assert.Equal(["pg-test-1"], Select("[? pg_role == 'primary']"));
        Assert.Equal(["pg-test-1"], Select("[?pg_role=='primary']"));
    }

    [Fact]
    public void An_unset_variable_is_null_so_its_negation_is_true()
    {
        // pg_offline_query is set only on pg-test-3; Pigsty's offline backup selector relies on the others reading as false.
        Assert.Equal(["pg-test-2"], Select("[? pg_role == `replica` && !pg_offline_query]"));
        Assert.Equal(["pg-test-3", "pg-test-4"], Select("[? pg_role == `offline` || pg_offline_query ]"));
    }

    [Fact]
    public void Empty_selector_list_picks_every_member_in_configured_order()
    {
        var reordered = List(PgTest[0], PgTest[2], PgTest[1]);
        Assert.Equal(["pg-test-1", "pg-test-3", "pg-test-2"], Select("[]", reordered));
    }

    [Fact]
    public void Members_come_back_in_the_order_the_expression_yields_them()
    {
        Assert.Equal(["pg-test-4", "pg-test-3", "pg-test-2", "pg-test-1"], Select("reverse(@)"));
        Assert.Equal(["pg-test-4", "pg-test-3"], Select("sort_by(@, &pg_seq)[-2:] | reverse(@)"));
    }

    [Fact]
    public void Numbers_compare_as_numbers()
    {
        Assert.Equal(["pg-test-3", "pg-test-4"], Select("[? pg_seq > `2`]"));
    }

    [Fact]
    public void A_null_result_is_the_empty_list()
    {
        Assert.Empty(Select("[? pg_role == `standby`] | [0]"));
        Assert.Empty(Select("[? pg_role == `standby`]"));
    }

    [Fact]
    public void Trailing_space_inside_a_bare_literal_is_kept_as_python_does()
    {
        // Python's lexer strips only leading white space: `primary ` is the string "primary ".
        Assert.Empty(Select("[? pg_role == `primary `]"));
        Assert.Equal(["pg-test-1"], Select("[? pg_role == ` primary`]"));
    }

    [Fact]
    public void A_result_that_is_not_a_list_is_an_error_that_names_the_selector()
    {
        var e = Assert.Throws<ConfigException>(() => Select("[0]"));
        Assert.StartsWith("pggate.yml:12:7: clusters.pg-test.services[1].selector: selector \"[0]\" yields an object", e.Message);
        Assert.Contains("not a list of members", e.Message);
    }

    [Fact]
    public void A_list_of_names_is_an_error_that_shows_the_right_form()
    {
        var e = Assert.Throws<ConfigException>(() => Select("[? pg_role == `primary`].name"));
        Assert.Equal(
            "pggate.yml:12:7: clusters.pg-test.services[1].selector: selector \"[? pg_role == `primary`].name\" yields the string " +
            "\"pg-test-1\" as item 0, which is not a member; a selector must yield the member documents themselves, e.g. " +
            "\"[? pg_role == `replica`]\" rather than \"[? pg_role == `replica`].name\"",
            e.Message);
    }

    [Fact]
    public void A_syntax_error_names_file_line_key_and_expression()
    {
        var e = Assert.Throws<ConfigException>(() => MemberSelector.Compile("[? pg_role == ", Where, Key));
        Assert.StartsWith("pggate.yml:12:7: clusters.pg-test.services[1].selector: invalid selector \"[? pg_role == \": ", e.Message);
        Assert.Equal(Where, e.Location);
        Assert.Equal(Key, e.Key);
    }

    [Fact]
    public void A_literal_python_would_reject_is_an_error()
    {
        var e = Assert.Throws<ConfigException>(() => MemberSelector.Compile("[? pg_role == `pri\"mary`]", Where, Key));
        Assert.Contains("is neither JSON nor a plain word", e.Message);
    }

    [Fact]
    public void An_empty_selector_is_an_error()
    {
        var e = Assert.Throws<ConfigException>(() => MemberSelector.Compile("  ", Where, Key));
        Assert.StartsWith("pggate.yml:12:7: clusters.pg-test.services[1].selector: the selector is empty", e.Message);
    }

    [Fact]
    public void Labels_and_nested_values_are_visible_to_selectors()
    {
        var a = new Dictionary<string, object?>(Member("pg-test-1", 1, "primary")) { ["zone"] = "a", ["tags"] = new List<object?> { "ssd" } };
        var b = new Dictionary<string, object?>(Member("pg-test-2", 2, "replica")) { ["zone"] = "b", ["tags"] = new List<object?>() };
        var members = List(a, b);
        Assert.Equal(["pg-test-2"], Select("[? zone == `b`]", members));
        Assert.Equal(["pg-test-1"], Select("[? contains(tags, `ssd`)]", members));
    }

    [Fact]
    public void Expressions_that_look_at_whole_members_see_every_key()
    {
        // Only the keys an expression names are converted for evaluation; @, * and $ must still see whole documents.
        var a = new Dictionary<string, object?>(Member("pg-test-1", 1, "primary")) { ["zone"] = "a", ["rack"] = "r1" };
        var b = new Dictionary<string, object?>(Member("pg-test-2", 2, "replica")) { ["zone"] = "b" };
        var members = List(a, b);
        Assert.Equal(["pg-test-1"], Select("[? length(keys(@)) > `6`]", members));
        Assert.Equal(["pg-test-1"], Select("[? contains(values(@), `r1`)]", members));
        Assert.Equal(["pg-test-2"], Select("[? @.zone == 'b']", members));
        Assert.Equal(["pg-test-2"], Select("[? \"zone\" == 'b']", members));
        Assert.Equal(["pg-test-1", "pg-test-2"], Select("[*]", members));
    }

    [Fact]
    public void Evaluation_is_safe_from_several_threads()
    {
        var selector = MemberSelector.Compile("[? pg_role == `replica` && !pg_offline_query]", Where, Key);
        Parallel.For(0, 2000, _ => Assert.Equal(["pg-test-2"], selector.Select(PgTest)));
    }
}
