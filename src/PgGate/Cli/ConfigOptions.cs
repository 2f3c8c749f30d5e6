using System.CommandLine;
using PgGate.Config;

namespace PgGate.Cli;

/// <summary>The options that say where the configuration comes from, shared by every verb that reads one.</summary>
internal sealed class ConfigOptions
{
    public Option<FileInfo?> Config { get; } = new("--config", "-c")
    {
        Description = "PgGate configuration (pggate.yml). Default: ./pggate.yml, then /etc/pggate/pggate.yml.",
    };

    public Option<FileInfo?> Inventory { get; } = new("--inventory", "-i")
    {
        Description = "A Pigsty inventory (pigsty.yml), read unchanged, instead of a PgGate configuration.",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Config);
        command.Options.Add(Inventory);
    }

    public GateConfig Load(ParseResult result)
    {
        var config = result.GetValue(Config);
        var inventory = result.GetValue(Inventory);
        if (config is not null && inventory is not null)
            throw new ConfigException(SourceLocation.None, "", "give either --config or --inventory, not both");
        if (inventory is not null)
            return ConfigLoader.LoadPigstyInventory(inventory.FullName);
        if (config is not null)
            return ConfigLoader.LoadNative(config.FullName);
        foreach (var candidate in (string[])["pggate.yml", "/etc/pggate/pggate.yml"])
        {
            if (File.Exists(candidate))
                return ConfigLoader.LoadNative(Path.GetFullPath(candidate));
        }
        throw new ConfigException(SourceLocation.None, "",
            "no configuration: give --config pggate.yml or --inventory pigsty.yml (or create ./pggate.yml); `pggate demo` needs none");
    }
}
