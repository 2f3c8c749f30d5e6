namespace PgGate.Config.Yaml;

/// <summary>How untagged plain scalars are typed.</summary>
internal enum ScalarSchema
{
    /// <summary>YAML 1.2 core schema (native <c>pggate.yml</c>): <c>true</c>/<c>false</c>, <c>null</c>/<c>~</c>, decimal, <c>0x</c>, <c>0o</c>, floats.</summary>
    Core,

    /// <summary>
    /// YAML 1.1 as PyYAML resolves it, which is what Ansible reads inventories with: <c>yes</c>/<c>no</c>/<c>on</c>/<c>off</c>
    /// are booleans, <c>010</c> is octal, <c>1_000</c> and <c>1:30</c> (sexagesimal) are integers.
    /// </summary>
    Yaml11,
}
