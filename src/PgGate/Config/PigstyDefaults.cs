namespace PgGate.Config;

/// <summary>Pigsty's defaults that PgGate reproduces (roles/pgsql/defaults/main.yml and the service template).</summary>
public static class PigstyDefaults
{
    /// <summary>Pigsty's <c>pg_default_services</c>, verbatim.</summary>
    public const string DefaultServicesYaml = """
        - { name: primary ,port: 5433 ,dest: default  ,check: /primary   ,selector: "[]" }
        - { name: replica ,port: 5434 ,dest: default  ,check: /read-only ,selector: "[]" , backup: "[? pg_role == `primary` || pg_role == `offline` ]" }
        - { name: default ,port: 5436 ,dest: postgres ,check: /primary   ,selector: "[]" }
        - { name: offline ,port: 5438 ,dest: postgres ,check: /replica   ,selector: "[? pg_role == `offline` || pg_offline_query ]" , backup: "[? pg_role == `replica` && !pg_offline_query]"}
        """;

    /// <summary>The name that stands for <see cref="DefaultServicesYaml"/> in a native <c>services</c> entry.</summary>
    public const string DefaultServicesName = "pigsty-defaults";

    public const int PgPort = 5432;
    public const int PgbouncerPort = 6432;
    public const int PatroniPort = 8008;
    public const int EtcdPort = 2379;
    public const int Weight = 100;
    public const int ServiceMaxConn = 5000;
    public const string ServiceIp = "*";
    public const string ServiceCheck = "/";
    public const string ServiceBalance = "roundrobin";
    public const string PatroniCaFile = "/pg/cert/ca.crt";
    public const string EtcdCertFile = "/pg/cert/server.crt";
    public const string EtcdKeyFile = "/pg/cert/server.key";
    public const string MonitorUsername = "dbuser_monitor";
    public const string MonitorPassword = "DBUser.Monitor";
    public const string PatroniUsername = "postgres";
    public const string PatroniPassword = "Patroni.API";
    public const string Namespace = "/pg";

    /// <summary>The roles <c>pg_id</c> accepts for <c>pg_role</c>.</summary>
    public static IReadOnlyList<string> Roles { get; } = ["primary", "replica", "standby", "offline", "delayed"];
}
