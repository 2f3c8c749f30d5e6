// TEMPORARY stand-in until the config branch lands the real JMESPath implementation.
using PgGate.Config;

namespace PgGate.Services.Selection;

public readonly record struct PlannedServer(string MemberName, bool IsBackup);

public static class ServerPlan
{
    public static IReadOnlyList<PlannedServer> Build(ServiceConfig service, IReadOnlyList<IReadOnlyDictionary<string, object?>> members)
    {
        var list = new List<PlannedServer>();
        foreach (var m in members)
            list.Add(new PlannedServer((string)m["name"]!, false));
        return list;
    }
}
