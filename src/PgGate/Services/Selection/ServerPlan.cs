using System.Collections.Concurrent;
using PgGate.Config;

namespace PgGate.Services.Selection;

/// <summary>One server line of a service: which member, and whether it only serves when every normal server is down.</summary>
public readonly record struct PlannedServer(string MemberName, bool IsBackup);

/// <summary>
/// The ordered server list of a service, as Pigsty's <c>service.cfg</c> template builds it (section 3.4 of the
/// reference): every member the selector yields, flagged <c>backup</c> when the backup selector also yields it; then
/// every backup match the selector did not pick, flagged <c>backup</c>. The order matters: without <c>allbackups</c> only
/// the first healthy backup serves.
/// </summary>
public static class ServerPlan
{
    private static readonly ConcurrentDictionary<(string Expression, SourceLocation Location, string Key), MemberSelector> Compiled = new();

    /// <summary>Builds the plan for <paramref name="service"/>; its selectors are compiled once and cached.</summary>
    public static IReadOnlyList<PlannedServer> Build(ServiceConfig service, IReadOnlyList<IReadOnlyDictionary<string, object?>> members)
    {
        ArgumentNullException.ThrowIfNull(service);
        var selector = GetCompiled(service.Selector, service.Location, service.Name + ".selector");
        var backup = service.Backup is null ? null : GetCompiled(service.Backup, service.Location, service.Name + ".backup");
        return Build(selector, backup, members);
    }

    public static IReadOnlyList<PlannedServer> Build(MemberSelector selector, MemberSelector? backup,
        IReadOnlyList<IReadOnlyDictionary<string, object?>> members)
    {
        ArgumentNullException.ThrowIfNull(selector);
        ArgumentNullException.ThrowIfNull(members);

        var ordered = new List<string>(members.Count);
        for (var i = 0; i < members.Count; i++)
            ordered.Add(MemberDocuments.NameOf(members[i], i));

        IReadOnlyList<string> picked = ordered;
        IReadOnlyList<string> backups = [];
        var evaluateSelector = !selector.SelectsAll;
        var evaluateBackup = backup is not null && !backup.SelectsAll;
        if (evaluateSelector || evaluateBackup)
        {
            var keys = evaluateSelector && evaluateBackup
                ? MemberDocuments.Union(selector.ReferencedKeys, backup!.ReferencedKeys)
                : evaluateSelector ? selector.ReferencedKeys : backup!.ReferencedKeys;
            var documents = MemberDocuments.ToJson(members, keys);
            var names = new HashSet<string>(ordered, StringComparer.Ordinal);
            if (evaluateSelector)
                picked = selector.Select(documents, names);
            if (evaluateBackup)
                backups = backup!.Select(documents, names);
        }
        if (backup is { SelectsAll: true })
            backups = ordered;

        var backupSet = new HashSet<string>(backups, StringComparer.Ordinal);
        var emitted = new HashSet<string>(StringComparer.Ordinal);
        var plan = new List<PlannedServer>(picked.Count + backups.Count);
        foreach (var name in picked)
        {
            // HAProxy would refuse a second server of the same name; an expression that yields a member twice still serves it once.
            if (emitted.Add(name))
                plan.Add(new PlannedServer(name, backupSet.Contains(name)));
        }
        foreach (var name in backups)
        {
            if (emitted.Add(name))
                plan.Add(new PlannedServer(name, IsBackup: true));
        }
        return plan;
    }

    private static MemberSelector GetCompiled(string expression, SourceLocation location, string key) =>
        Compiled.GetOrAdd((expression, location, key), static k => MemberSelector.Compile(k.Expression, k.Location, k.Key));
}
