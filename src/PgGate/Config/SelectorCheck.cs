using PgGate.Services.Selection;

namespace PgGate.Config;

/// <summary>Load-time proof that every selector yields a list of members on the configured members.</summary>
internal static class SelectorCheck
{
    public static void Check(IReadOnlyList<ParsedService> services, IReadOnlyList<MemberConfig> members)
    {
        var documents = new List<IReadOnlyDictionary<string, object?>>(members.Count);
        foreach (var m in members)
            documents.Add(m.Vars);

        foreach (var service in services)
        {
            CheckOne(service.Selector, documents);
            if (service.Backup is { } backup)
                CheckOne(backup, documents);
        }
    }

    private static void CheckOne(MemberSelector selector, List<IReadOnlyDictionary<string, object?>> documents)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in selector.Select(documents))
        {
            if (!seen.Add(name))
            {
                throw new ConfigException(selector.Location, selector.Key,
                    "selector \"" + selector.Expression + "\" yields member " + name + " more than once; each member may appear once");
            }
        }
    }
}
