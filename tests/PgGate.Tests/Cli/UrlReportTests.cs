using PgGate.Cli;
using PgGate.Config;

namespace PgGate.Tests.Cli;

public class UrlReportTests
{
    private static readonly ClusterConfig Cluster = ConfigLoader.LoadNativeFromString("""
        clusters:
          pg-test:
            vip: 10.10.10.3
            members:
              - { name: pg-test-1, host: 10.10.10.11, role: primary }
              - { name: pg-test-2, host: 10.10.10.12, role: replica }
              - { name: pg-test-3, host: 10.10.10.13, role: replica, offline_query: true }
        """, "urls.yml").Clusters[0];

    private static readonly string Report = UrlReport.Render(Cluster, "test", "test");

    [Theory]
    [InlineData("postgres://test@pg-test:5433/test")]          // cluster name
    [InlineData("postgres://test@10.10.10.3:5434/test")]       // VIP
    [InlineData("postgres://dbuser_dba@pg-test-1:5436/test")]  // instance name, admin on default
    [InlineData("postgres://dbuser_stats@10.10.10.13:5438/test")] // instance address, ETL on offline
    [InlineData("postgres://test@10.10.10.11:6432,10.10.10.12:6432,10.10.10.13:6432/test?target_session_attrs=primary")]
    [InlineData("postgres://test@10.10.10.11:6432,10.10.10.12:6432,10.10.10.13:6432/test?target_session_attrs=prefer-standby")]
    [InlineData("postgres://test@10.10.10.11:5433,10.10.10.12:5433,10.10.10.13:5433/test")]
    [InlineData("Host=10.10.10.11,10.10.10.12,10.10.10.13;Port=6432;Database=test;Username=test;Target Session Attributes=primary")]
    public void Lists_every_way_in_as_the_seed_combinations_table(string url) => Assert.Contains(url, Report);

    [Fact]
    public void Direct_postgres_urls_say_they_do_not_route()
    {
        var line = Report.Split('\n').First(l => l.StartsWith("postgres://test@10.10.10.12:5432/test", StringComparison.Ordinal));
        Assert.Contains("no routing", line);
    }
}
