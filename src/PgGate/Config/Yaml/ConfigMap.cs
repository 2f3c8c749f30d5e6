using YamlDotNet.RepresentationModel;

namespace PgGate.Config.Yaml;

/// <summary>
/// A YAML mapping with string keys in document order. YAML merge keys (<c>&lt;&lt;: *anchor</c>) are applied
/// the way PyYAML (and so Ansible) applies them: merged entries come first, keys written in the mapping win.
/// </summary>
internal sealed class ConfigMap
{
    private const string MergeKey = "<<";

    private readonly List<KeyValuePair<string, ConfigNode>> _entries = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ConfigNode> _keyNodes = new(StringComparer.Ordinal);

    public ConfigMap(ConfigNode self)
    {
        Self = self;
        var merged = new List<KeyValuePair<string, ConfigNode>>();
        var explicitEntries = new List<KeyValuePair<string, ConfigNode>>();
        Collect(self, merged, explicitEntries, _keyNodes, depth: 0);
        foreach (var entry in merged)
            Set(entry);
        foreach (var entry in explicitEntries)
            Set(entry);
    }

    public ConfigNode Self { get; }

    public SourceLocation Location => Self.Location;

    public int Count => _entries.Count;

    public IReadOnlyList<KeyValuePair<string, ConfigNode>> Entries => _entries;

    public bool Contains(string key) => _index.ContainsKey(key);

    public bool TryGet(string key, out ConfigNode value)
    {
        if (_index.TryGetValue(key, out var i))
        {
            value = _entries[i].Value;
            return true;
        }
        value = default;
        return false;
    }

    /// <summary>The value, or null when the key is absent or its value is YAML null (<c>key:</c> or <c>key: ~</c>).</summary>
    public ConfigNode? Get(string key) => TryGet(key, out var v) && !v.IsNull ? v : null;

    public ConfigNode Required(string key, string expected)
    {
        if (TryGet(key, out var v) && !v.IsNull)
            return v;
        throw new ConfigException(Location, ConfigPath.Child(Self.Path, key), "missing; expected " + expected);
    }

    /// <summary>Where a key itself was written (for errors about the key rather than its value).</summary>
    public ConfigNode KeyNode(string key) => _keyNodes.TryGetValue(key, out var n) ? n : Self;

    public void RejectUnknownKeys(IReadOnlyList<string> knownKeys)
    {
        foreach (var (key, _) in _entries)
        {
            var known = false;
            foreach (var k in knownKeys)
            {
                if (k == key)
                {
                    known = true;
                    break;
                }
            }
            if (known)
                continue;
            var keyNode = KeyNode(key);
            var hint = KeyHints.Closest(key, knownKeys) is { } guess ? "did you mean '" + guess + "'? " : "";
            throw new ConfigException(keyNode.Location, keyNode.Path,
                "unknown key '" + key + "'; " + hint + "known keys here: " + string.Join(", ", knownKeys));
        }
    }

    private void Set(KeyValuePair<string, ConfigNode> entry)
    {
        if (_index.TryGetValue(entry.Key, out var i))
            _entries[i] = entry;
        else
        {
            _index[entry.Key] = _entries.Count;
            _entries.Add(entry);
        }
    }

    private static void Collect(ConfigNode map, List<KeyValuePair<string, ConfigNode>> merged,
        List<KeyValuePair<string, ConfigNode>> explicitEntries, Dictionary<string, ConfigNode>? keyNodes, int depth)
    {
        if (depth > 16)
            throw map.Error("YAML merge keys ('<<') are nested too deeply");
        var node = (YamlMappingNode)map.Node;
        foreach (var (keyYaml, valueYaml) in node.Children)
        {
            if (keyYaml is not YamlScalarNode keyScalar)
            {
                throw map.Derive(keyYaml, map.Path).Error(
                    "a mapping key must be a plain string, found a " + (keyYaml is YamlMappingNode ? "mapping" : "list"));
            }
            var key = keyScalar.Value ?? "";
            if (key == MergeKey && YamlScalars.IsPlain(keyScalar))
            {
                CollectMerge(map, map.Child(valueYaml, MergeKey), merged, depth);
                continue;
            }
            var value = map.Child(valueYaml, key);
            explicitEntries.Add(new(key, value));
            keyNodes?.TryAdd(key, map.Derive(keyYaml, value.Path));
        }
    }

    private static void CollectMerge(ConfigNode owner, ConfigNode source, List<KeyValuePair<string, ConfigNode>> merged, int depth)
    {
        var sources = new List<ConfigNode>();
        if (source.Node is YamlMappingNode)
            sources.Add(source);
        else if (source.Node is YamlSequenceNode seq)
        {
            foreach (var item in seq.Children)
            {
                if (item is not YamlMappingNode)
                    throw source.Error("a YAML merge key ('<<') takes a mapping or a list of mappings, found a list item that is not a mapping");
                sources.Add(source.Derive(item, source.Path));
            }
            // PyYAML: with <<: [*a, *b], *a wins over *b.
            sources.Reverse();
        }
        else
            throw source.Expected("a mapping or a list of mappings after the YAML merge key '<<'");

        foreach (var src in sources)
        {
            var inner = new List<KeyValuePair<string, ConfigNode>>();
            var innerExplicit = new List<KeyValuePair<string, ConfigNode>>();
            Collect(src.Derive(src.Node, owner.Path), inner, innerExplicit, keyNodes: null, depth + 1);
            merged.AddRange(inner);
            merged.AddRange(innerExplicit);
        }
    }
}
