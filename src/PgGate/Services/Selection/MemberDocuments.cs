using System.Collections;
using System.Globalization;
using Newtonsoft.Json.Linq;

namespace PgGate.Services.Selection;

/// <summary>Member documents (selector input) as the JSON tokens JmesPath.Net evaluates over.</summary>
internal static class MemberDocuments
{
    public const string NameKey = "name";

    /// <param name="keys">Only these keys (and <c>name</c>); null for whole documents.</param>
    public static JArray ToJson(IReadOnlyList<IReadOnlyDictionary<string, object?>> members, HashSet<string>? keys = null)
    {
        var array = new JArray();
        for (var i = 0; i < members.Count; i++)
            array.Add(ToJson(members[i], keys));
        return array;
    }

    public static JObject ToJson(IReadOnlyDictionary<string, object?> member, HashSet<string>? keys = null)
    {
        var obj = new JObject();
        if (keys is null)
        {
            foreach (var (key, value) in member)
                obj[key] = ToToken(value);
            return obj;
        }
        if (member.TryGetValue(NameKey, out var name))
            obj[NameKey] = ToToken(name);
        foreach (var key in keys)
        {
            if (key != NameKey && member.TryGetValue(key, out var value))
                obj[key] = ToToken(value);
        }
        return obj;
    }

    /// <summary>The keys both selectors need: null (whole documents) when either needs them.</summary>
    public static HashSet<string>? Union(HashSet<string>? a, HashSet<string>? b)
    {
        if (a is null || b is null)
            return null;
        var union = new HashSet<string>(a, StringComparer.Ordinal);
        union.UnionWith(b);
        return union;
    }

    public static string NameOf(IReadOnlyDictionary<string, object?> member, int index) =>
        member.TryGetValue(NameKey, out var name) && name is string s && s.Length > 0
            ? s
            : throw new ArgumentException("member document " + index.ToString(CultureInfo.InvariantCulture) + " has no 'name'", nameof(member));

    public static JToken ToToken(object? value)
    {
        switch (value)
        {
            case null:
                return JValue.CreateNull();
            case string s:
                return new JValue(s);
            case bool b:
                return new JValue(b);
            case long l:
                return new JValue(l);
            case int i:
                return new JValue(i);
            case double d:
                return new JValue(d);
            case float f:
                return new JValue(f);
            case decimal m:
                return new JValue(m);
            case JToken token:
                return token.DeepClone();
            case IReadOnlyDictionary<string, object?> map:
            {
                var obj = new JObject();
                foreach (var (k, v) in map)
                    obj[k] = ToToken(v);
                return obj;
            }
            case IDictionary dict:
            {
                var obj = new JObject();
                foreach (DictionaryEntry e in dict)
                    obj[Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? ""] = ToToken(e.Value);
                return obj;
            }
            case IEnumerable items:
            {
                var array = new JArray();
                foreach (var item in items)
                    array.Add(ToToken(item));
                return array;
            }
            case Enum e:
                return new JValue(e.ToString().ToLowerInvariant());
            case IFormattable f:
                return new JValue(f.ToString(null, CultureInfo.InvariantCulture));
            default:
                return new JValue(value.ToString());
        }
    }
}
