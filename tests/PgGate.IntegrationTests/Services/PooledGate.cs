using PgGate.Sandbox;

namespace PgGate.IntegrationTests.Services;

/// <summary>
/// Configuration for PgGate with its pooler over the fixture's cluster: Pigsty's default services with the primary and
/// replica services pooled (<c>default_service_dest: pool</c>), the node pooler on each node's 6432, SCRAM for clients
/// against a userlist with the sandbox's users (written to a temporary file, deleted by <see cref="Dispose"/>).
/// </summary>
public sealed class PooledGate : IDisposable
{
    public PooledGate()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("pggate-pooled-");
        UserList = Path.Combine(Directory.FullName, "userlist.txt");
        var lines = string.Concat(LocalClusterUser.PigstyDefaults.Select(u => $"\"{u.Name}\" \"{u.Password}\"\n"));
        File.WriteAllText(UserList, lines);
        AdminPasswordFile = Path.Combine(Directory.FullName, "admin.pass");
        File.WriteAllText(AdminPasswordFile, AdminPassword + "\n");
    }

    /// <summary>The admin API's password (user <see cref="AdminUser"/>), in <see cref="AdminPasswordFile"/>.</summary>
    public const string AdminPassword = "Admin.Pass.1";

    public const string AdminUser = "pggate";

    public string AdminPasswordFile { get; }

    public DirectoryInfo Directory { get; }

    public string UserList { get; }

    /// <summary>
    /// The test YAML of <see cref="GateUnderTest.Yaml"/> with the pooler section and pooled default services; with
    /// <paramref name="adminAuthentication"/>, the admin API's write endpoints need <see cref="AdminUser"/>'s password.
    /// </summary>
    public string Yaml(LocalCluster cluster, string poolerExtra = "", bool adminAuthentication = false) => $$"""
        clusters:
          {{cluster.Name}}:
            members:
              - { name: {{cluster.Members[0].Name}}, host: {{cluster.Members[0].Host}}, role: primary }
              - { name: {{cluster.Members[1].Name}}, host: {{cluster.Members[1].Host}}, role: replica }
              - { name: {{cluster.Members[2].Name}}, host: {{cluster.Members[2].Host}}, role: replica, offline_query: true }
            default_service_dest: pool
            health:
              source: sql
              rto: fast
              sql: { user: dbuser_monitor, password: DBUser.Monitor }
            services:
              - pigsty-defaults
        pooler:
          auth_type: scram-sha-256
          auth_file: {{UserList}}
          default_pool_size: 5
          reserve_pool_size: 0
          query_wait_timeout: 30
          server_login_retry: 1
        {{poolerExtra}}
        admin: { listen: "*:9101"{{(adminAuthentication ? $", username: {AdminUser}, password_file: {AdminPasswordFile}" : "")}} }
        """;

    public void Dispose()
    {
        try
        {
            Directory.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
