using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace PgGate.Config.Yaml;

/// <summary>
/// A YAML node with the dotted key path that leads to it and the file it came from: the binder's unit.
/// Every accessor either returns a typed value or throws a <see cref="ConfigException"/> that names
/// file:line:column, the key path, what was found and the form that was expected.
/// </summary>
internal readonly struct ConfigNode
{
    private const int MaxDepth = 64;

    private readonly SourceLocation? _pinned;

    public ConfigNode(YamlNode node, string path, string file, ScalarSchema schema, SourceLocation? pinned = null)
    {
        Node = node;
        Path = path;
        File = file;
        Schema = schema;
        _pinned = pinned;
    }

    public YamlNode Node { get; }

    public string Path { get; }

    public string File { get; }

    public ScalarSchema Schema { get; }

    /// <summary>Where the node was written; for built-in text (Pigsty's default services) the place that pulled it in.</summary>
    public SourceLocation Location => _pinned ?? new(File, (int)Node.Start.Line, (int)Node.Start.Column);

    public bool IsNull => Node is YamlScalarNode s && YamlScalars.IsNull(s, Schema);

    public bool IsMap => Node is YamlMappingNode;

    public bool IsList => Node is YamlSequenceNode;

    public bool IsScalar => Node is YamlScalarNode && !IsNull;

    /// <summary>The scalar's text as written (without quotes); empty for non-scalars.</summary>
    public string Text => Node is YamlScalarNode s ? s.Value ?? "" : "";

    public ConfigNode Child(YamlNode node, string key) => Derive(node, ConfigPath.Child(Path, key));

    public ConfigNode Item(YamlNode node, int index) => Derive(node, ConfigPath.Index(Path, index));

    /// <summary>Another node of the same file (and pinning) under another path.</summary>
    public ConfigNode Derive(YamlNode node, string path) => new(node, path, File, Schema, _pinned);

    public ConfigNode WithPath(string path) => new(Node, path, File, Schema, _pinned);

    /// <summary>This node and everything under it report <paramref name="location"/> as where they were written.</summary>
    public ConfigNode PinnedTo(SourceLocation location) => new(Node, Path, File, Schema, location);

    public ConfigException Error(string problem) => new(Location, Path, problem);

    public ConfigException Expected(string expected) => Error("expected " + expected + ", found " + Describe());

    /// <summary>How the value reads in an error message: <c>"54x4"</c>, <c>a list</c>, <c>a mapping</c>, <c>nothing</c>.</summary>
    public string Describe()
    {
        switch (Node)
        {
            case YamlMappingNode:
                return "a mapping";
            case YamlSequenceNode:
                return "a list";
            case YamlScalarNode s when YamlScalars.IsNull(s, Schema):
                return s.Value is null or "" ? "nothing" : "null";
            case YamlScalarNode s:
                return Quote(s.Value ?? "");
            default:
                return "an unsupported YAML node";
        }
    }

    public static string Quote(string value)
    {
        var shown = value.Length > 80 ? value[..77] + "..." : value;
        return "\"" + shown.Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";
    }

    /// <summary>The mapping under this node; keys not in <paramref name="knownKeys"/> are errors that list the known ones.</summary>
    public ConfigMap AsMap(string expected, IReadOnlyList<string>? knownKeys = null)
    {
        if (Node is not YamlMappingNode)
            throw Expected(expected);
        var map = new ConfigMap(this);
        if (knownKeys is not null)
            map.RejectUnknownKeys(knownKeys);
        return map;
    }

    public IReadOnlyList<ConfigNode> AsList(string expected)
    {
        if (Node is not YamlSequenceNode seq)
            throw Expected(expected);
        var items = new List<ConfigNode>(seq.Children.Count);
        for (var i = 0; i < seq.Children.Count; i++)
            items.Add(Item(seq.Children[i], i));
        return items;
    }

    /// <summary>The value of this scalar as the schema types it (null, bool, long, double, string).</summary>
    public object? ScalarValue() => Node is YamlScalarNode s ? YamlScalars.Resolve(s, Schema) : null;

    /// <summary>Any non-null scalar, as text.</summary>
    public string AsString(string expected)
    {
        if (Node is not YamlScalarNode || IsNull)
            throw Expected(expected);
        return Text;
    }

    /// <summary>An integer in [min, max]; a quoted integer ("5433") is accepted too.</summary>
    public int AsInt(int min, int max, string expected)
    {
        if (Node is not YamlScalarNode || IsNull)
            throw Expected(expected);
        long? value = ScalarValue() switch
        {
            long l => l,
            string text when YamlScalars.ParseInt(text.Trim(), ScalarSchema.Core) is { } l => l,
            _ => null,
        };
        if (value is null || value < min || value > max)
            throw Expected(expected);
        return (int)value.Value;
    }

    /// <summary><c>true</c> or <c>false</c> (native files are strict: <c>yes</c>/<c>no</c> are not booleans there).</summary>
    public bool AsBool(string expected = "true or false")
    {
        if (Node is YamlScalarNode && !IsNull && ScalarValue() is bool b)
            return b;
        if (Node is YamlScalarNode && !IsNull && YamlScalars.ParseBool(Text, ScalarSchema.Core) is { } quoted)
            return quoted;
        throw Expected(expected);
    }

    /// <summary>A duration in HAProxy's time format (<c>500ms</c>, <c>2s</c>, <c>1m</c>); a bare number is milliseconds.</summary>
    public TimeSpan AsDuration(string expected = "a duration such as 500ms, 2s, 1m or 1h (a bare number means milliseconds)")
    {
        if (Node is not YamlScalarNode || IsNull)
            throw Expected(expected);
        if (!HaproxyTime.TryParse(Text.Trim(), out var value, out _))
            throw Expected(expected);
        return value;
    }

    /// <summary>
    /// The whole subtree as plain values for selector documents: string, bool, long, double, null,
    /// <see cref="List{T}"/> of values, or <see cref="Dictionary{TKey,TValue}"/> keyed by string.
    /// </summary>
    public object? ToPlain() => ToPlain(this, 0);

    private static object? ToPlain(ConfigNode node, int depth)
    {
        if (depth > MaxDepth)
            throw node.Error("the value is nested more than " + MaxDepth.ToString(CultureInfo.InvariantCulture) + " levels deep (a recursive YAML alias?)");
        switch (node.Node)
        {
            case YamlScalarNode:
                return node.ScalarValue();
            case YamlSequenceNode:
            {
                var items = node.AsList("a list");
                var list = new List<object?>(items.Count);
                foreach (var item in items)
                    list.Add(ToPlain(item, depth + 1));
                return list;
            }
            case YamlMappingNode:
            {
                var map = new ConfigMap(node);
                var dict = new Dictionary<string, object?>(map.Count, StringComparer.Ordinal);
                foreach (var (key, value) in map.Entries)
                    dict[key] = ToPlain(value, depth + 1);
                return dict;
            }
            default:
                return null;
        }
    }
}
