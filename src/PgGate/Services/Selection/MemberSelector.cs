using System.Globalization;
using DevLab.JmesPath;
using DevLab.JmesPath.Expressions;
using Newtonsoft.Json.Linq;
using PgGate.Config;

namespace PgGate.Services.Selection;

/// <summary>
/// A compiled service selector (or backup selector): a JMESPath expression over the list of member documents that
/// yields the members it picks, evaluated exactly as Pigsty's Ansible <c>json_query</c> evaluates it with Python's
/// <c>jmespath</c> — a missing variable is null (falsy), so <c>!pg_offline_query</c> holds when the variable is unset,
/// and Pigsty's <c>`primary`</c> literals mean the string "primary".
/// </summary>
public sealed class MemberSelector
{
    private static readonly JmesPath Engine = new();
    private static readonly Lock EngineGate = new();

    private readonly JmesPathExpression _ast;

    // JmesPath.Net keeps evaluation state (the root and let-scopes) in the compiled tree, so one evaluation at a time.
    private readonly Lock _gate = new();

    private MemberSelector(string expression, JmesPathExpression ast, SourceLocation location, string key, string rewritten)
    {
        Expression = expression;
        _ast = ast;
        Location = location;
        Key = key;
        SelectsAll = rewritten.Trim() == "[]";
        ReferencedKeys = SelectorKeys.Referenced(rewritten);
    }

    /// <summary>The expression is Pigsty's <c>[]</c>: every member in order, no evaluation needed.</summary>
    internal bool SelectsAll { get; }

    /// <summary>The document keys the expression can observe, or null when it needs whole documents.</summary>
    internal HashSet<string>? ReferencedKeys { get; }

    /// <summary>The expression as written.</summary>
    public string Expression { get; }

    public SourceLocation Location { get; }

    public string Key { get; }

    /// <exception cref="ConfigException">The expression is not valid JMESPath; the message names where it was written.</exception>
    public static MemberSelector Compile(string expression, SourceLocation location, string key)
    {
        ArgumentNullException.ThrowIfNull(expression);
        if (string.IsNullOrWhiteSpace(expression))
            throw new ConfigException(location, key, "the selector is empty; use \"[]\" for every member or a filter such as \"[? pg_role == `replica`]\"");

        string rewritten;
        try
        {
            rewritten = JmesPathLiterals.Rewrite(expression);
        }
        catch (FormatException e)
        {
            throw new ConfigException(location, key, "invalid selector " + Quote(expression) + ": " + e.Message);
        }

        JmesPathExpression ast;
        try
        {
            lock (EngineGate)
                ast = Engine.Parse(rewritten);
        }
        catch (Exception e)
        {
            throw new ConfigException(location, key,
                "invalid selector " + Quote(expression) + ": " + e.Message +
                "; a selector is JMESPath over the member list, e.g. \"[]\" or \"[? pg_role == `replica` && !pg_offline_query]\"");
        }
        return new MemberSelector(expression, ast, location, key, rewritten);
    }

    /// <summary>
    /// The <c>name</c> of every member the expression yields, in the order it yields them (duplicates kept).
    /// A null result is the empty list.
    /// </summary>
    /// <exception cref="ConfigException">The result is not a list of member documents.</exception>
    public IReadOnlyList<string> Select(IReadOnlyList<IReadOnlyDictionary<string, object?>> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        var names = new List<string>(members.Count);
        for (var i = 0; i < members.Count; i++)
            names.Add(MemberDocuments.NameOf(members[i], i));
        if (SelectsAll)
            return names;
        return Select(MemberDocuments.ToJson(members, ReferencedKeys), new HashSet<string>(names, StringComparer.Ordinal));
    }

    /// <summary>Evaluates over documents already converted with at least <see cref="ReferencedKeys"/>.</summary>
    internal IReadOnlyList<string> Select(JArray documents, HashSet<string> memberNames)
    {
        JToken result;
        try
        {
            lock (_gate)
                result = _ast.Transform(documents).AsJToken();
        }
        catch (Exception e)
        {
            throw new ConfigException(Location, Key, "selector " + Quote(Expression) + " failed: " + e.Message);
        }

        if (result is null || result.Type == JTokenType.Null)
            return [];
        if (result is not JArray array)
        {
            throw new ConfigException(Location, Key,
                "selector " + Quote(Expression) + " yields " + Describe(result) +
                ", not a list of members; a selector must yield members, e.g. \"[? pg_role == `replica`]\"");
        }

        var picked = new List<string>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            var item = array[i];
            if (item is JObject obj && obj.TryGetValue(MemberDocuments.NameKey, StringComparison.Ordinal, out var nameToken) &&
                nameToken.Type == JTokenType.String && nameToken.Value<string>() is { } name && memberNames.Contains(name))
            {
                picked.Add(name);
                continue;
            }
            throw new ConfigException(Location, Key,
                "selector " + Quote(Expression) + " yields " + Describe(item) + " as item " + i.ToString(CultureInfo.InvariantCulture) +
                ", which is not a member; a selector must yield the member documents themselves, e.g. \"[? pg_role == `replica`]\" " +
                "rather than \"[? pg_role == `replica`].name\"");
        }
        return picked;
    }

    public override string ToString() => Expression;

    private static string Quote(string expression) => "\"" + expression + "\"";

    private static string Describe(JToken token)
    {
        var text = token.ToString(Newtonsoft.Json.Formatting.None);
        if (text.Length > 60)
            text = text[..57] + "...";
        return token.Type switch
        {
            JTokenType.Object => "an object " + text,
            JTokenType.Array => "a list " + text,
            JTokenType.String => "the string " + text,
            JTokenType.Boolean => "the boolean " + text,
            JTokenType.Integer or JTokenType.Float => "the number " + text,
            _ => text,
        };
    }
}
