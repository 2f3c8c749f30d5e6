using PgGate.Config;

namespace PgGate.Tests.Config;

/// <summary>The Pigsty-format inventories under Config/Inventories, copied next to the test assembly.</summary>
internal static class Inventories
{
    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Config", "Inventories", name + ".yml");

    public static GateConfig Load(string name) => ConfigLoader.LoadPigstyInventory(PathOf(name));

    public static IReadOnlyList<IReadOnlyDictionary<string, object?>> Documents(ClusterConfig cluster) =>
        cluster.Members.Select(m => m.Vars).ToList();

    /// <summary>A service's server list as Pigsty's HAProxy config shows it: "name host:port" plus " backup".</summary>
    public static string[] Servers(ClusterConfig cluster, string service)
    {
        var s = cluster.Services.Single(x => x.Name == service);
        return PgGate.Services.Selection.ServerPlan.Build(s, Documents(cluster))
            .Select(p =>
            {
                var m = cluster.FindMember(p.MemberName)!;
                return m.Name + " " + m.Host + ":" + s.Dest.PortOn(m) + (p.IsBackup ? " backup" : "");
            })
            .ToArray();
    }
}
