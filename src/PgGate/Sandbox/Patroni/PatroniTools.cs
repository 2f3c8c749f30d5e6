namespace PgGate.Sandbox.Patroni;

/// <summary>
/// The programs a Patroni sandbox runs: <c>patroni</c>, <c>etcd</c> and <c>etcdctl</c> from PATH (Debian's packages
/// <c>patroni</c>, <c>etcd-server</c>, <c>etcd-client</c>), or from <c>PGGATE_PATRONI</c> / <c>PGGATE_ETCD</c> /
/// <c>PGGATE_ETCDCTL</c>, plus the PostgreSQL server binaries.
/// </summary>
public sealed record PatroniTools(string Patroni, string Etcd, string Etcdctl, PostgresInstallation Postgres)
{
    public const string PatroniVariable = "PGGATE_PATRONI";
    public const string EtcdVariable = "PGGATE_ETCD";
    public const string EtcdctlVariable = "PGGATE_ETCDCTL";

    private const string InstallHint =
        "Install them with `scripts/install-deps.sh` (as root; .ci/run does) or `apt-get install -y patroni etcd-server etcd-client`.";

    /// <summary>Finds every tool or throws a <see cref="SandboxException"/> naming what is missing and how to install it.</summary>
    public static PatroniTools Find()
    {
        var missing = new List<string>();
        var patroni = Locate("patroni", PatroniVariable, missing);
        var etcd = Locate("etcd", EtcdVariable, missing);
        var etcdctl = Locate("etcdctl", EtcdctlVariable, missing);
        PostgresInstallation? postgres = null;
        try
        {
            postgres = PostgresInstallation.Find();
        }
        catch (SandboxException e)
        {
            missing.Add(e.Message);
        }

        if (missing.Count > 0)
            throw new SandboxException("The Patroni sandbox cannot run: " + string.Join("; ", missing) + ". " + InstallHint);
        return new PatroniTools(patroni!, etcd!, etcdctl!, postgres!);
    }

    /// <summary>Why a Patroni sandbox cannot run on this machine (for a test's skip message), or null when it can.</summary>
    public static string? MissingReason()
    {
        try
        {
            _ = Find();
            return null;
        }
        catch (SandboxException e)
        {
            return e.Message;
        }
    }

    private static string? Locate(string program, string variable, List<string> missing)
    {
        var given = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrWhiteSpace(given))
        {
            if (File.Exists(given))
                return Path.GetFullPath(given);
            missing.Add($"{variable}={given} does not exist");
            return null;
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':'))
        {
            if (directory.Length == 0)
                continue;
            var candidate = Path.Combine(directory, program);
            if (File.Exists(candidate))
                return candidate;
        }
        foreach (var directory in (string[])["/usr/local/bin", "/usr/bin", "/usr/sbin"])
        {
            var candidate = Path.Combine(directory, program);
            if (File.Exists(candidate))
                return candidate;
        }
        missing.Add($"{program} not found on PATH (or set {variable})");
        return null;
    }
}
