using PgGate.Pooling;
using PgGate.Pooling.Auth;
using PgGate.Pooling.Ini;

namespace PgGate.Tests.Pooling;

/// <summary>Pigsty's rendered pgbouncer.ini (with its %include files, userlist.txt and pgb_hba.conf) read as PgBouncer reads it.</summary>
public sealed class IniPigstyTests : IDisposable
{
    private readonly DirectoryInfo _directory = PigstyIniData.CopyToTemporaryDirectory();

    private string Ini => Path.Combine(_directory.FullName, "pgbouncer.ini");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public void Every_pigsty_setting_is_mapped()
    {
        var settings = PgBouncerIni.Load(Ini).Settings;

        Assert.Equal(PoolMode.Transaction, settings.PoolMode);
        Assert.Equal("*", settings.ListenAddr);
        Assert.Equal(6432, settings.ListenPort);
        Assert.Equal(PoolerAuthType.Hba, settings.AuthType);
        Assert.Equal(Path.Combine(_directory.FullName, "userlist.txt"), settings.AuthFile);
        Assert.Equal(Path.Combine(_directory.FullName, "pgb_hba.conf"), settings.AuthHbaFile);
        Assert.Equal(["postgres", "dbuser_dba"], settings.AdminUsers);
        Assert.Equal(["postgres", "dbuser_monitor"], settings.StatsUsers);
        Assert.Equal("DISCARD ALL", settings.ServerResetQuery);
        Assert.False(settings.ServerResetQueryAlways);
        Assert.Equal(20000, settings.MaxClientConn);
        Assert.Equal(0, settings.MinPoolSize);
        Assert.Equal(50, settings.DefaultPoolSize);
        Assert.Equal(30, settings.ReservePoolSize);
        Assert.Equal(TimeSpan.FromSeconds(1), settings.ReservePoolTimeout);
        Assert.Equal(TimeSpan.FromSeconds(600), settings.ServerLifetime);
        Assert.Equal(100, settings.MaxDbConnections);
        Assert.Equal(100, settings.MaxUserConnections);
        Assert.Equal(["extra_float_digits", "application_name", "TimeZone", "DateStyle", "IntervalStyle", "search_path"],
            settings.IgnoreStartupParameters);
        Assert.Equal(256, settings.MaxPreparedStatements);
        Assert.Equal(ClientTlsMode.Disable, settings.ClientTlsSslMode);
        Assert.Equal("/pg/cert/server.crt", settings.ClientTlsCertFile);
        Assert.Equal("/pg/cert/server.key", settings.ClientTlsKeyFile);
        Assert.Equal("/pg/cert/ca.crt", settings.ClientTlsCaFile);
    }

    [Fact]
    public void The_included_database_and_user_lines_are_read_into_their_sections()
    {
        var settings = PgBouncerIni.Load(Ini).Settings;

        var database = Assert.Single(settings.Databases);
        Assert.Equal("test", database.Name);
        Assert.Equal("/var/run/postgresql", database.Host);
        Assert.Equal(5432, database.Port);
        Assert.Null(database.DbName);
        Assert.Equal(2, settings.Users.Count);
        Assert.Equal(new PoolerUser { Name = "dbuser_dba", PoolMode = PoolMode.Session, MaxUserConnections = 16 }, settings.FindUser("dbuser_dba"));
        Assert.Equal(new PoolerUser { Name = "dbuser_monitor", PoolMode = PoolMode.Session, MaxUserConnections = 8 }, settings.FindUser("dbuser_monitor"));
        Assert.Equal(PoolMode.Session, settings.EffectivePoolMode(database, "dbuser_dba"));
        Assert.Equal(PoolMode.Transaction, settings.EffectivePoolMode(database, "test"));
    }

    [Fact]
    public void Only_the_settings_PgGate_cannot_honour_are_warned_about_with_file_and_line()
    {
        var warnings = PgBouncerIni.Load(Ini).Warnings;

        Assert.Equal(3, warnings.Count);
        Assert.StartsWith($"{Ini}:29: unix_socket_dir is not supported, ignored (", warnings[0], StringComparison.Ordinal);
        Assert.StartsWith($"{Ini}:30: pidfile is not supported, ignored (", warnings[1], StringComparison.Ordinal);
        Assert.StartsWith($"{Ini}:31: logfile is not supported, ignored (", warnings[2], StringComparison.Ordinal);
    }

    [Fact]
    public void The_userlist_and_hba_file_it_names_load()
    {
        var settings = PgBouncerIni.Load(Ini).Settings;

        var users = UserList.Load(settings.AuthFile);
        Assert.Equal(4, users.Count);
        Assert.Empty(users.Warnings);
        Assert.True(users.TryGet("dbuser_dba", out var dba));
        Assert.True(dba.MatchesCleartext("dbuser_dba", "DBUser.DBA"));
        Assert.True(users.TryGet("postgres", out _));

        var hba = HbaFile.Load(settings.AuthHbaFile!);
        Assert.Equal(HbaMethod.Reject, hba.Match(false, "test", "dbuser_monitor", System.Net.IPAddress.Parse("10.10.10.10"))!.Method);
        Assert.Equal(HbaMethod.ScramSha256, hba.Match(false, "pgbouncer", "dbuser_monitor", System.Net.IPAddress.Parse("10.10.10.10"))!.Method);
        Assert.Equal(HbaMethod.ScramSha256, hba.Match(false, "test", "test", System.Net.IPAddress.Parse("127.0.0.1"))!.Method);
    }
}
