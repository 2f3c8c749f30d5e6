using PgGate.Pooling;
using PgGate.Pooling.Ini;

namespace PgGate.Tests.Pooling;

/// <summary>PgBouncer's ini syntax: sections, comments, %include, connect strings, defaults, warnings and errors.</summary>
public sealed class IniParsingTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("pggate-ini-parse-");

    public void Dispose() => _directory.Delete(recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_directory.FullName, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private static PoolerConfigurationException Fails(string text) =>
        Assert.Throws<PoolerConfigurationException>(() => PgBouncerIni.Parse(text, "pgbouncer.ini"));

    [Fact]
    public void Settings_left_out_keep_PgBouncer_defaults_not_Pigsty_ones()
    {
        var result = PgBouncerIni.Parse("[pgbouncer]\nlisten_addr = 127.0.0.1\n");

        Assert.Equal(PoolMode.Session, result.Settings.PoolMode);
        Assert.Equal(20, result.Settings.DefaultPoolSize);
        Assert.Equal(100, result.Settings.MaxClientConn);
        Assert.Equal(0, result.Settings.ReservePoolSize);
        Assert.Equal(PoolerAuthType.Md5, result.Settings.AuthType);
        Assert.Empty(result.Settings.AdminUsers);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void Without_listen_addr_PgGate_listens_on_localhost_and_says_so()
    {
        var result = PgBouncerIni.Parse("[pgbouncer]\nlisten_port = 6499\n");

        Assert.Equal("127.0.0.1", result.Settings.ListenAddr);
        Assert.Contains(result.Warnings, w => w.Contains("listen_addr is not set", StringComparison.Ordinal));
    }

    [Fact]
    public void Comments_blank_lines_case_and_duplicate_keys_are_handled_like_PgBouncer()
    {
        var result = PgBouncerIni.Parse("""
            ; a comment
            # another

            [PgBouncer]
            LISTEN_ADDR = 127.0.0.1
            pool_mode = statement
            pool_mode = transaction
            default_pool_size=7
            """);

        Assert.Equal(PoolMode.Transaction, result.Settings.PoolMode);
        Assert.Equal(7, result.Settings.DefaultPoolSize);
        Assert.Equal("127.0.0.1", result.Settings.ListenAddr);
    }

    [Fact]
    public void Include_reads_a_file_in_place_relative_to_the_including_file_and_keeps_the_section()
    {
        Write("conf.d/databases.txt", "app = host=10.0.0.1 port=6000 dbname=appdb\n[pgbouncer]\nmax_client_conn = 500\n");
        Write("conf.d/users.txt", "alice = pool_mode=statement max_user_connections=4\n");
        var ini = Write("pgbouncer.ini", """
            [users]
            %include conf.d/users.txt
            [databases]
            %include conf.d/databases.txt
            default_pool_size = 9
            listen_addr = 127.0.0.1
            """);

        var settings = PgBouncerIni.Load(ini).Settings;

        var app = Assert.Single(settings.Databases);
        Assert.Equal(new PoolerDatabase { Name = "app", Host = "10.0.0.1", Port = 6000, DbName = "appdb" }, app);
        Assert.Equal(PoolMode.Statement, settings.FindUser("alice")!.PoolMode);
        Assert.Equal(4, settings.FindUser("alice")!.MaxUserConnections);
        Assert.Equal(500, settings.MaxClientConn);
        // The included file switched to [pgbouncer]; that holds after the include, as in PgBouncer.
        Assert.Equal(9, settings.DefaultPoolSize);
    }

    [Fact]
    public void A_missing_include_names_the_including_line_and_the_missing_file()
    {
        var ini = Write("pgbouncer.ini", "[databases]\n%include /nonexistent/database.txt\n");

        var error = Assert.Throws<PoolerConfigurationException>(() => PgBouncerIni.Load(ini));

        Assert.StartsWith($"{ini}:2: %include cannot read /nonexistent/database.txt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_include_loop_is_an_error_not_a_hang()
    {
        var ini = Write("pgbouncer.ini", "[pgbouncer]\n%include pgbouncer.ini\n");

        var error = Assert.Throws<PoolerConfigurationException>(() => PgBouncerIni.Load(ini));

        Assert.Contains("nested more than 10 deep", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Database_connect_strings_take_every_pool_setting_and_quoted_values()
    {
        var settings = PgBouncerIni.Parse("""
            [databases]
            * = host=/var/run/postgresql
            "my db" = host=10.0.0.5 port=5433 dbname=real user=app password='p w''d' pool_size=5 min_pool_size=1 reserve_pool=2 pool_mode=session max_db_connections=9 auth_user=pgb
            [pgbouncer]
            listen_addr = *
            """).Settings;

        var entry = settings.FindDatabase("my db")!;
        Assert.Equal(new PoolerDatabase
        {
            Name = "my db", Host = "10.0.0.5", Port = 5433, DbName = "real", User = "app", Password = "p w'd", PoolSize = 5, MinPoolSize = 1,
            ReservePool = 2, PoolMode = PoolMode.Session, MaxDbConnections = 9, AuthUser = "pgb",
        }, entry);
        Assert.True(settings.FindDatabase("anything")!.IsFallback);
    }

    [Fact]
    public void Unsupported_and_unknown_settings_are_warnings_naming_file_and_line()
    {
        var result = PgBouncerIni.Parse("""
            [databases]
            app = host=10.0.0.1 client_encoding=LATIN1 frobnicate=1
            [pgbouncer]
            listen_addr = *
            query_timeout = 30
            log_connections = 0
            no_such_setting = 1
            """);

        Assert.Equal(
        [
            "pgbouncer.ini:2: database app: client_encoding is not supported, ignored (clients' own settings are carried to every server connection; set defaults in PostgreSQL (ALTER DATABASE ... SET))",
            "pgbouncer.ini:2: database app: unknown parameter frobnicate, ignored",
            "pgbouncer.ini:5: query_timeout is not supported, ignored (use PostgreSQL's statement_timeout)",
            "pgbouncer.ini:7: unknown setting no_such_setting, ignored",
        ], result.Warnings);
    }

    [Theory]
    [InlineData("[pgbouncer]\ndefault_pool_size = lots\n", "pgbouncer.ini:2: default_pool_size = lots: expected a whole number >= 0")]
    [InlineData("[pgbouncer]\nlisten_port = 70000\n", "pgbouncer.ini:2: listen_port = 70000: expected a TCP port number (1-65535)")]
    [InlineData("[pgbouncer]\npool_mode = sometimes\n", "pgbouncer.ini:2: pool_mode = sometimes: expected session, transaction or statement")]
    [InlineData("[pgbouncer]\nserver_lifetime = soon\n",
        "pgbouncer.ini:2: server_lifetime = soon: expected a number of seconds >= 0, optionally with a unit (e.g. 600, 1.5, 500ms, 10min)")]
    [InlineData("[pgbouncer]\nauth_type = pam\n",
        "pgbouncer.ini:2: auth_type = pam: expected trust, any, plain, md5, scram-sha-256 or hba (cert and pam are not supported)")]
    [InlineData("[pgbouncer]\nserver_reset_query_always = maybe\n",
        "pgbouncer.ini:2: server_reset_query_always = maybe: expected 0 or 1 (also yes/no, on/off, true/false)")]
    [InlineData("[databases]\napp = host=h pool_size=big\n", "pgbouncer.ini:2: app: pool_size=big: expected a whole number >= 0")]
    [InlineData("[databases]\napp = host=h pool_mode=never\n", "pgbouncer.ini:2: app: pool_mode=never: expected session, transaction or statement")]
    [InlineData("[databases]\napp = host=h dbname\n",
        "pgbouncer.ini:2: app = host=h dbname: expected key=value pairs, \"dbname\" has no '=' (e.g. host=127.0.0.1 port=5432 dbname=app)")]
    [InlineData("[databases]\napp = host=a,b\n",
        "pgbouncer.ini:2: app: host=a,b: expected one host; for several servers use a PgGate service with dest: pool")]
    [InlineData("[databases]\npgbouncer = host=h\n", "pgbouncer.ini:2: database name pgbouncer is reserved for the admin console; rename the entry")]
    [InlineData("listen_port = 1\n", "pgbouncer.ini:1: listen_port appears before any section; put it under [pgbouncer], [databases] or [users]")]
    [InlineData("[pgbouncer]\njust words\n",
        "pgbouncer.ini:2: expected \"key = value\", \"[section]\" or \"%include <file>\", got \"just words\"")]
    [InlineData("[pgbouncer\n", "pgbouncer.ini:1: section header \"[pgbouncer\" has no closing ']'")]
    [InlineData("%includes x\n", "pgbouncer.ini:1: unknown directive \"%includes x\"; the only one is \"%include <file>\"")]
    [InlineData("[pgbouncer]\nserver_tls_sslmode = verify-full\n",
        "pgbouncer.ini:2: server_tls_sslmode = verify-full is not supported: PgGate connects to servers without TLS; expected disable, allow or prefer (or remove the line)")]
    [InlineData("[pgbouncer]\nlisten_addr = *\nauth_type = hba\n", "pgbouncer.ini: auth_type = hba needs auth_hba_file (a pg_hba.conf-style file)")]
    public void Bad_values_fail_with_one_line_naming_file_line_key_and_expected_form(string text, string message)
    {
        var error = Fails(text);

        Assert.Equal(message, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Every_setting_prints_a_value_it_parses_back_to_the_same_value()
    {
        var pigsty = new PoolerSettings();
        foreach (var key in PoolerSettingKeys.All)
        {
            foreach (var settings in new[] { PoolerSettingKeys.PgBouncerDefaults, pigsty })
            {
                var printed = key.Format(settings);
                Assert.Equal(printed, key.Format(key.Apply(PoolerSettingKeys.PgBouncerDefaults, printed)));
            }
        }
    }

    [Theory]
    [InlineData("30", 30.0)]
    [InlineData("1.5", 1.5)]
    [InlineData("500ms", 0.5)]
    [InlineData("10min", 600.0)]
    [InlineData("2h", 7200.0)]
    public void Durations_are_seconds_with_optional_units(string value, double seconds)
    {
        var settings = PgBouncerIni.Parse($"[pgbouncer]\nlisten_addr=*\nquery_wait_timeout = {value}\n").Settings;

        Assert.Equal(TimeSpan.FromSeconds(seconds), settings.QueryWaitTimeout);
    }
}
