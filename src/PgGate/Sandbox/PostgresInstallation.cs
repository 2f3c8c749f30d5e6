namespace PgGate.Sandbox;

/// <summary>
/// The PostgreSQL server binaries the sandbox drives: the newest <c>/usr/lib/postgresql/&lt;version&gt;/bin</c> that
/// holds every tool it needs, or the directory named by <c>PGGATE_PG_BIN</c>.
/// </summary>
public sealed class PostgresInstallation
{
    public const string BinDirectoryVariable = "PGGATE_PG_BIN";
    public const string DefaultSearchRoot = "/usr/lib/postgresql";

    /// <summary>pg_rewind's automatic crash recovery and <c>wal_keep_size</c> arrived in 13.</summary>
    public const int MinimumMajorVersion = 13;

    private static readonly string[] RequiredTools = ["initdb", "pg_ctl", "postgres", "pg_basebackup", "pg_rewind", "psql"];

    private const string InstallHint =
        "Install PostgreSQL with `scripts/install-deps.sh --demo` (as root) or `apt-get install -y postgresql`, " +
        "or set " + BinDirectoryVariable + " to the bin directory of a PostgreSQL " + "13+ server installation.";

    private PostgresInstallation(string binDirectory, int? majorVersion)
    {
        BinDirectory = binDirectory;
        MajorVersion = majorVersion;
    }

    public string BinDirectory { get; }

    /// <summary>From the directory name (<c>.../postgresql/15/bin</c>); null when the name does not say.</summary>
    public int? MajorVersion { get; }

    public string Initdb => Tool("initdb");

    public string PgCtl => Tool("pg_ctl");

    public string Postgres => Tool("postgres");

    public string PgBasebackup => Tool("pg_basebackup");

    public string PgRewind => Tool("pg_rewind");

    public string Psql => Tool("psql");

    public string Tool(string name) => Path.Combine(BinDirectory, name);

    /// <summary>Finds the binaries (honouring <c>PGGATE_PG_BIN</c>) or throws a <see cref="SandboxException"/> naming the fix.</summary>
    public static PostgresInstallation Find() =>
        Find(Environment.GetEnvironmentVariable(BinDirectoryVariable), DefaultSearchRoot);

    internal static PostgresInstallation Find(string? binDirectoryOverride, string searchRoot)
    {
        if (!string.IsNullOrWhiteSpace(binDirectoryOverride))
        {
            var directory = Path.GetFullPath(binDirectoryOverride);
            var missing = MissingTools(directory);
            if (missing.Count > 0)
            {
                throw new SandboxException(
                    $"{BinDirectoryVariable}={binDirectoryOverride} does not hold the PostgreSQL server binaries " +
                    $"(missing: {string.Join(", ", missing)}). Point {BinDirectoryVariable} at a directory with " +
                    $"{string.Join(", ", RequiredTools)}, or unset it to use the newest {searchRoot}/<version>/bin.");
            }

            return Checked(new PostgresInstallation(directory, MajorVersionOf(directory)));
        }

        var candidates = new List<(Version Version, string Bin)>();
        if (Directory.Exists(searchRoot))
        {
            foreach (var versionDirectory in Directory.EnumerateDirectories(searchRoot))
            {
                if (TryParseVersion(Path.GetFileName(versionDirectory), out var version))
                {
                    candidates.Add((version, Path.Combine(versionDirectory, "bin")));
                }
            }
        }

        candidates.Sort((a, b) => b.Version.CompareTo(a.Version));
        var incomplete = new List<string>();
        foreach (var (version, bin) in candidates)
        {
            var missing = MissingTools(bin);
            if (missing.Count == 0)
            {
                return Checked(new PostgresInstallation(bin, version.Major));
            }

            incomplete.Add($"{bin} lacks {string.Join(", ", missing)}");
        }

        var found = incomplete.Count == 0
            ? $"nothing under {searchRoot}"
            : string.Join("; ", incomplete);
        throw new SandboxException(
            $"PostgreSQL server binaries not found ({string.Join(", ", RequiredTools)}): {found}. {InstallHint}");
    }

    private static PostgresInstallation Checked(PostgresInstallation installation)
    {
        if (installation.MajorVersion is int major && major < MinimumMajorVersion)
        {
            throw new SandboxException(
                $"PostgreSQL {major} in {installation.BinDirectory} is too old for the sandbox " +
                $"(needs {MinimumMajorVersion} or newer). {InstallHint}");
        }

        return installation;
    }

    private static List<string> MissingTools(string directory)
    {
        var missing = new List<string>();
        foreach (var tool in RequiredTools)
        {
            if (!File.Exists(Path.Combine(directory, tool)))
            {
                missing.Add(tool);
            }
        }

        return missing;
    }

    private static int? MajorVersionOf(string binDirectory)
    {
        var parent = Path.GetFileName(Path.GetDirectoryName(binDirectory.TrimEnd('/')));
        return parent is not null && TryParseVersion(parent, out var version) ? version.Major : null;
    }

    private static bool TryParseVersion(string name, out Version version) =>
        Version.TryParse(name.Contains('.', StringComparison.Ordinal) ? name : name + ".0", out version!);
}
