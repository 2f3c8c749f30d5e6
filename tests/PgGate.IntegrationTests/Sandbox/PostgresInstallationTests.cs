using PgGate.Sandbox;

namespace PgGate.IntegrationTests.Sandbox;

public sealed class PostgresInstallationTests : IDisposable
{
    private static readonly string[] Tools = ["initdb", "pg_ctl", "postgres", "pg_basebackup", "pg_rewind", "psql"];

    private readonly string _root = Directory.CreateTempSubdirectory("pg-installation-test-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void The_newest_complete_version_wins()
    {
        FakeBin("13", Tools);
        FakeBin("15", Tools);
        FakeBin("16", ["initdb", "pg_ctl"]);

        var installation = PostgresInstallation.Find(binDirectoryOverride: null, _root);

        Assert.Equal(Path.Combine(_root, "15", "bin"), installation.BinDirectory);
        Assert.Equal(15, installation.MajorVersion);
        Assert.Equal(Path.Combine(_root, "15", "bin", "pg_rewind"), installation.PgRewind);
    }

    [Fact]
    public void The_override_variable_wins_over_the_search()
    {
        FakeBin("15", Tools);
        var custom = FakeBin("custom", Tools);

        Assert.Equal(custom, PostgresInstallation.Find(custom, _root).BinDirectory);
    }

    [Fact]
    public void Missing_binaries_name_the_fix()
    {
        FakeBin("15", ["psql"]);

        var error = Assert.Throws<SandboxException>(() => PostgresInstallation.Find(binDirectoryOverride: null, _root));

        Assert.Contains("scripts/install-deps.sh", error.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install -y postgresql", error.Message, StringComparison.Ordinal);
        Assert.Contains("lacks initdb", error.Message, StringComparison.Ordinal);
        Assert.Contains(PostgresInstallation.BinDirectoryVariable, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_override_says_what_is_missing()
    {
        var custom = FakeBin("custom", ["psql"]);

        var error = Assert.Throws<SandboxException>(() => PostgresInstallation.Find(custom, _root));

        Assert.Contains($"{PostgresInstallation.BinDirectoryVariable}={custom}", error.Message, StringComparison.Ordinal);
        Assert.Contains("pg_basebackup", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Too_old_a_version_is_refused()
    {
        FakeBin("12", Tools);

        var error = Assert.Throws<SandboxException>(() => PostgresInstallation.Find(binDirectoryOverride: null, _root));

        Assert.Contains("too old", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void This_machine_has_a_usable_installation_and_a_root_process_runs_it_as_postgres()
    {
        var installation = PostgresInstallation.Find();
        Assert.True(File.Exists(installation.Initdb));

        var user = OsUser.ForPostgres();
        Assert.Equal(Environment.IsPrivilegedProcess ? "postgres" : Environment.UserName, user.Name);
        Assert.Equal(Environment.IsPrivilegedProcess, user.SwitchesUser);
    }

    private string FakeBin(string version, string[] tools)
    {
        var bin = Path.Combine(_root, version, "bin");
        Directory.CreateDirectory(bin);
        foreach (var tool in tools)
        {
            File.WriteAllText(Path.Combine(bin, tool), "");
        }

        return bin;
    }
}
