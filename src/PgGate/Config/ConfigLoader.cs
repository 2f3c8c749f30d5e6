namespace PgGate.Config;

/// <summary>
/// Entry points that turn a file into a validated <see cref="GateConfig"/>. Every problem is a <see cref="ConfigException"/>
/// naming file:line:column and the key; nothing may start on a configuration that fails here.
/// </summary>
public static class ConfigLoader
{
    /// <summary>Loads a native <c>pggate.yml</c>.</summary>
    public static GateConfig LoadNative(string path) => NativeConfigReader.Read(ReadFile(path), path);

    /// <summary>Loads a Pigsty inventory (Ansible YAML inventory) as it is.</summary>
    public static GateConfig LoadPigstyInventory(string path) => PigstyInventoryReader.Read(ReadFile(path), path);

    /// <param name="fileName">The name errors report, e.g. <c>pggate.yml</c>.</param>
    public static GateConfig LoadNativeFromString(string yaml, string fileName) => NativeConfigReader.Read(yaml, fileName);

    /// <param name="fileName">The name errors report, e.g. <c>pigsty.yml</c>.</param>
    public static GateConfig LoadPigstyInventoryFromString(string yaml, string fileName) => PigstyInventoryReader.Read(yaml, fileName);

    private static string ReadFile(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ConfigException(new SourceLocation(path, 0, 0), "", "cannot read the configuration file: " + e.Message);
        }
    }
}
