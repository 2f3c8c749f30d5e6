using PgGate.Config;

namespace PgGate.Tests.Config;

/// <summary>Inventories are typed as Ansible (PyYAML, YAML 1.1) types them; pggate.yml uses the YAML 1.2 core schema.</summary>
public class YamlScalarsTests
{
    private static IReadOnlyDictionary<string, object?> InventoryVars(string vars) =>
        ConfigLoader.LoadPigstyInventoryFromString(
            "all:\n  children:\n    pg-x:\n      hosts: { 10.0.0.1: { pg_seq: 1, pg_role: primary } }\n      vars: { pg_cluster: pg-x, " + vars + " }\n",
            "pigsty.yml").Clusters[0].Members[0].Vars;

    private static IReadOnlyDictionary<string, object?> NativeLabels(string labels) =>
        ConfigLoader.LoadNativeFromString(
            "clusters:\n  pg-x:\n    members:\n      - { name: a, host: 10.0.0.1, role: primary, labels: { " + labels + " } }\n",
            "pggate.yml").Clusters[0].Members[0].Vars;

    [Fact]
    public void Inventory_scalars_follow_yaml_1_1()
    {
        var v = InventoryVars("a: yes, b: Off, c: 010, d: 0x1F, e: 1_000, f: 1:30, g: 1.5, h: 1e3, i: ~, j: '010', k: y, l: 08");
        Assert.Equal(true, v["a"]);
        Assert.Equal(false, v["b"]);
        Assert.Equal(8L, v["c"]);
        Assert.Equal(31L, v["d"]);
        Assert.Equal(1000L, v["e"]);
        Assert.Equal(90L, v["f"]);
        Assert.Equal(1.5, v["g"]);
        Assert.Equal("1e3", v["h"]);
        Assert.Null(v["i"]);
        Assert.Equal("010", v["j"]);
        Assert.Equal("y", v["k"]);
        Assert.Equal("08", v["l"]);
    }

    [Fact]
    public void Native_scalars_follow_the_yaml_1_2_core_schema()
    {
        var v = NativeLabels("a: yes, b: false, c: 010, d: 0x1F, e: 1e3, f: ~, g: \"true\", h: 0o17");
        Assert.Equal("yes", v["a"]);
        Assert.Equal(false, v["b"]);
        Assert.Equal(10L, v["c"]);
        Assert.Equal(31L, v["d"]);
        Assert.Equal(1000.0, v["e"]);
        Assert.Null(v["f"]);
        Assert.Equal("true", v["g"]);
        Assert.Equal(15L, v["h"]);
    }
}
