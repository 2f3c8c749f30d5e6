namespace PgGate.Cluster.Dcs;

/// <summary>Where Patroni keeps a cluster's keys in its DCS.</summary>
public static class DcsKeys
{
    /// <summary>Patroni's default namespace when none is configured (Pigsty configures <c>/pg/</c>).</summary>
    public const string PatroniDefaultNamespace = "/service/";

    /// <summary>
    /// <c>/&lt;namespace&gt;/&lt;scope&gt;/leader</c>, built as Patroni builds it: the parts joined with <c>/</c> and runs of
    /// slashes collapsed, so <c>/pg/</c>, <c>/pg</c> and <c>pg</c> all give <c>/pg/pg-test/leader</c>.
    /// </summary>
    public static string Leader(string @namespace, string scope) => ClusterPrefix(@namespace, scope) + "/leader";

    /// <summary><c>/&lt;namespace&gt;/&lt;scope&gt;</c> without a trailing slash.</summary>
    public static string ClusterPrefix(string @namespace, string scope)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        var joined = "/" + @namespace + "/" + scope;
        var collapsed = new System.Text.StringBuilder(joined.Length);
        foreach (var c in joined)
        {
            if (c == '/' && collapsed.Length > 0 && collapsed[^1] == '/')
                continue;
            collapsed.Append(c);
        }
        if (collapsed.Length > 1 && collapsed[^1] == '/')
            collapsed.Length--;
        return collapsed.ToString();
    }
}
