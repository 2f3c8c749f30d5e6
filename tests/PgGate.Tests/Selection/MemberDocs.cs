namespace PgGate.Tests.Selection;

/// <summary>Member documents as Pigsty's hostvars would have them (unset variables are absent, not false).</summary>
internal static class MemberDocs
{
    public static IReadOnlyDictionary<string, object?> Member(string name, int seq, string role, bool? offlineQuery = null)
    {
        var doc = new Dictionary<string, object?>
        {
            ["name"] = name,
            ["inventory_hostname"] = "10.10.10." + (10 + seq),
            ["pg_cluster"] = name[..name.LastIndexOf('-')],
            ["pg_seq"] = (long)seq,
            ["pg_role"] = role,
        };
        if (offlineQuery is { } oq)
            doc["pg_offline_query"] = oq;
        return doc;
    }

    public static IReadOnlyList<IReadOnlyDictionary<string, object?>> List(params IReadOnlyDictionary<string, object?>[] members) => members;
}
