using PgGate.Config;

namespace PgGate.Tests.Config;

public class HaproxyConfigRendererTests
{
    private static readonly string GoldenRoot = Path.Combine(AppContext.BaseDirectory, "Config", "Haproxy");

    public static TheoryData<string> GoldenFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(GoldenRoot, "*.cfg", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(GoldenRoot, file));
        return data;
    }

    [Theory]
    [MemberData(nameof(GoldenFiles))]
    public void Renders_byte_for_byte_what_pigsty_renders(string golden)
    {
        // <inventory>/<inventory_hostname>/<cluster>-<service>.cfg, rendered by Ansible from Pigsty's service.cfg template.
        var parts = golden.Split(Path.DirectorySeparatorChar);
        var config = Inventories.Load(parts[0]);
        var node = parts[1];
        var cluster = config.Clusters.Single(c => c.FindMember(node) is not null);
        var service = cluster.Services.Single(s => cluster.Name + "-" + s.Name + ".cfg" == parts[2]);

        var expected = File.ReadAllText(Path.Combine(GoldenRoot, golden));
        Assert.Equal(expected, HaproxyConfigRenderer.RenderService(cluster, service, node));
    }

    [Fact]
    public void Every_service_of_every_inventory_has_a_golden_file()
    {
        var count = 0;
        foreach (var inventory in Directory.GetDirectories(GoldenRoot))
        {
            var config = Inventories.Load(Path.GetFileName(inventory));
            foreach (var cluster in config.Clusters)
            {
                foreach (var member in cluster.Members)
                {
                    foreach (var (file, _) in HaproxyConfigRenderer.RenderServiceFiles(cluster, member.Host))
                    {
                        Assert.True(File.Exists(Path.Combine(inventory, member.Host, file)), inventory + "/" + member.Host + "/" + file);
                        count++;
                    }
                }
            }
        }
        Assert.True(count >= 60, count.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Haproxy_compatible_times_rewrite_decimal_timers_that_haproxy_rejects()
    {
        var cluster = Inventories.Load("rto-fast").Clusters[0];
        var text = HaproxyConfigRenderer.RenderService(cluster, cluster.Services[0], "10.10.10.21", new HaproxyRenderOptions { HaproxyCompatibleTimes = true });
        Assert.Contains(
            "    default-server inter 1s fastinter 500ms downinter 1s rise 3 fall 3 on-marked-down shutdown-sessions slowstart 30s maxconn 3000 maxqueue 128 weight 100\n",
            text);
    }

    [Fact]
    public void Allbackups_is_rendered_only_when_asked()
    {
        var config = ConfigLoader.LoadNativeFromString("""
            clusters:
              pg-test:
                members: [ { name: pg-test-1, host: 127.0.0.11, role: primary } ]
                services: [ { name: standby, port: 5435, backup: "[? pg_role == `primary`]", allbackups: true } ]
            """, "pggate.yml");
        var cluster = config.Clusters[0];
        Assert.DoesNotContain("allbackups", HaproxyConfigRenderer.RenderService(cluster, cluster.Services[0], "127.0.0.11"));
        var text = HaproxyConfigRenderer.RenderService(cluster, cluster.Services[0], "127.0.0.11", new HaproxyRenderOptions { IncludeAllBackups = true });
        Assert.Contains("    option http-keep-alive\n    option allbackups\n", text);
        Assert.Contains("    server pg-test-1 127.0.0.11:5432 check port 8008 weight 100 backup\n", text);
    }

    [Fact]
    public void Main_config_is_pigsty_haproxy_cfg()
    {
        var text = HaproxyConfigRenderer.RenderMain(new HaproxyMainSettings { NodeName = "pg-test-1", InventoryHostname = "10.10.10.11" });
        Assert.StartsWith("# Ansible managed\n# pg-test-1 @ 10.10.10.11\n", text);
        Assert.Contains("    node        pg-test-1\n", text);
        Assert.Contains("    timeout client     24h           # client connection timeout\n", text);
        Assert.Contains("    bind *:9101  # default haproxy exporter port\n", text);
        Assert.Contains("    stats uri /haproxy/pg-test-1/\n", text);
        Assert.EndsWith("    http-request use-service prometheus-exporter if { path /metrics }\n", text);
    }
}
