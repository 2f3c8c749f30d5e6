namespace PgGate.Config;

public enum ConfigFormat
{
    /// <summary>PgGate's own <c>pggate.yml</c>.</summary>
    Native,

    /// <summary>An Ansible YAML inventory written for Pigsty, read unchanged.</summary>
    PigstyInventory,
}

public sealed record AdminConfig
{
    /// <summary>HTTP address of the status page, JSON API and <c>/metrics</c>: <c>host:port</c>, <c>*</c> for every address.</summary>
    public string Listen { get; init; } = "*:9101";

    /// <summary>
    /// HTTP Basic credentials the admin API's write endpoints (pause, resume, switchover) require, as Patroni's
    /// <c>restapi.authentication</c> guards its unsafe endpoints; the status page, JSON status and <c>/metrics</c> stay
    /// open. Null: no credentials are required (then keep <see cref="Listen"/> on an internal address).
    /// </summary>
    public string? Username { get; init; }

    public SecretSource Password { get; init; } = SecretSource.None;

    /// <summary>True when write endpoints require credentials.</summary>
    public bool RequiresAuthentication => Username is not null;
}

/// <summary>The whole effective configuration, immutable; reload builds a new one and swaps it.</summary>
public sealed record GateConfig
{
    public required IReadOnlyList<ClusterConfig> Clusters { get; init; }

    public AdminConfig Admin { get; init; } = new();

    /// <summary>The file this came from (native YAML or a Pigsty inventory).</summary>
    public string SourceFile { get; init; } = "";

    public ConfigFormat Format { get; init; } = ConfigFormat.Native;

    /// <summary>
    /// Things that load but deserve a look, each prefixed with file:line (e.g. a Pigsty <c>dest</c> string that Pigsty
    /// silently routes to 5432). <c>check-config</c> prints them; <c>run</c> logs them.
    /// </summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    public ClusterConfig? FindCluster(string name)
    {
        foreach (var c in Clusters)
        {
            if (c.Name == name)
                return c;
        }
        return null;
    }
}
