using System.Runtime.InteropServices;

namespace PgGate.Sandbox;

/// <summary>The few libc calls .NET has no managed API for (signals to non-child processes, chown, SysV shm).</summary>
internal static partial class NativeMethods
{
    public const int SigQuit = 3;
    public const int SigKill = 9;
    public const int IpcRmid = 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static partial int Chown(string path, uint owner, uint group);

    [LibraryImport("libc", EntryPoint = "shmctl", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static partial int Shmctl(int shmid, int command, nint buffer);

    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial nint RealPath(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial void Free(nint pointer);

    /// <summary>The path with every symbolic link resolved, as <c>/proc/&lt;pid&gt;/cwd</c> shows it.</summary>
    public static string ResolvePath(string path)
    {
        var resolved = RealPath(path, 0);
        if (resolved == 0)
        {
            return Path.GetFullPath(path);
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved) ?? Path.GetFullPath(path);
        }
        finally
        {
            Free(resolved);
        }
    }
}
