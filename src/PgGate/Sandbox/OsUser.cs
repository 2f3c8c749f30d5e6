using System.Diagnostics;
using System.Runtime.InteropServices;

namespace PgGate.Sandbox;

/// <summary>
/// The operating-system user PostgreSQL runs as. PostgreSQL refuses to run as root, so a root process runs every
/// PostgreSQL command as <c>postgres</c> through <c>runuser -u postgres --</c> and hands it the files it creates;
/// any other process runs the commands as itself.
/// </summary>
public sealed class OsUser
{
    public const string PostgresUserName = "postgres";

    private static readonly string[] RunuserLocations = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"];
    private static readonly Lazy<OsUser> ForPostgresInstance = new(Resolve);

    private readonly string? _runuser;
    private readonly uint _uid;
    private readonly uint _gid;

    private OsUser(string name, string? runuser, uint uid, uint gid)
    {
        Name = name;
        _runuser = runuser;
        _uid = uid;
        _gid = gid;
    }

    /// <summary>The user PostgreSQL processes run as.</summary>
    public string Name { get; }

    /// <summary>True when this process is root and commands go through <c>runuser</c>.</summary>
    public bool SwitchesUser => _runuser is not null;

    /// <summary><c>postgres</c> when this process is root, the current user otherwise.</summary>
    public static OsUser ForPostgres() => ForPostgresInstance.Value;

    /// <summary>Wraps a command so it runs as this user; no shell is involved.</summary>
    internal ProcessStartInfo CreateStartInfo(string tool, IReadOnlyList<string> arguments)
    {
        var startInfo = new ProcessStartInfo { FileName = _runuser ?? tool, UseShellExecute = false };
        if (_runuser is not null)
        {
            startInfo.ArgumentList.Add("-u");
            startInfo.ArgumentList.Add(Name);
            startInfo.ArgumentList.Add("--");
            startInfo.ArgumentList.Add(tool);
        }

        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        return startInfo;
    }

    /// <summary>Makes this user the owner of a file or directory root created for it; a no-op when not root.</summary>
    public void TakeOwnership(string path)
    {
        if (_runuser is null)
        {
            return;
        }

        if (NativeMethods.Chown(path, _uid, _gid) != 0)
        {
            throw new SandboxException(
                $"Could not give {path} to OS user {Name} (chown failed: {Marshal.GetLastPInvokeErrorMessage()}). " +
                "The sandbox needs a local file system that supports ownership, such as /tmp.");
        }
    }

    private static OsUser Resolve()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return new OsUser(Environment.UserName, runuser: null, 0, 0);
        }

        var runuser = Array.Find(RunuserLocations, File.Exists) ?? throw new SandboxException(
            "This process runs as root, so PostgreSQL must run as OS user postgres through runuser, but runuser " +
            "was not found (looked in " + string.Join(", ", RunuserLocations) + "). Install util-linux " +
            "(`apt-get install -y util-linux`) or run as a non-root user.");

        var (uid, gid) = LookUpIds(PostgresUserName);
        return new OsUser(PostgresUserName, runuser, uid, gid);
    }

    private static (uint Uid, uint Gid) LookUpIds(string name)
    {
        // getent goes through NSS, so users from LDAP/sssd work as well as /etc/passwd ones.
        var startInfo = new ProcessStartInfo("getent") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        startInfo.ArgumentList.Add("passwd");
        startInfo.ArgumentList.Add(name);
        string line;
        try
        {
            using var process = Process.Start(startInfo)!;
            line = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new SandboxException($"Could not look up OS user {name} with getent: {e.Message}.", e);
        }

        var fields = line.Trim().Split(':');
        if (fields.Length < 4 || !uint.TryParse(fields[2], out var uid) || !uint.TryParse(fields[3], out var gid))
        {
            throw new SandboxException(
                $"This process runs as root, so PostgreSQL must run as OS user {name}, which does not exist. " +
                "Installing PostgreSQL creates it: run `scripts/install-deps.sh --demo` or `apt-get install -y postgresql`; " +
                "or run as a non-root user.");
        }

        return (uid, gid);
    }
}
