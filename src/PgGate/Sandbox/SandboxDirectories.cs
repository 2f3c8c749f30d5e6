using System.Globalization;
using System.Security.Cryptography;

namespace PgGate.Sandbox;

/// <summary>
/// Where sandboxes live when no base directory is given: <c>/dev/shm/pggate-*</c> when /dev/shm is a tmpfs with room
/// to spare, <c>/tmp/pggate-*</c> otherwise. Measured here, a clone with pg_basebackup takes about 0.3 s in tmpfs and
/// 0.6-1.1 s on the ext4 disk, and the data is thrown away anyway. Leftovers are swept from both places.
/// </summary>
internal static class SandboxDirectories
{
    public const string Prefix = "pggate-";
    public const string SharedMemoryRoot = "/dev/shm";
    public const string TempRoot = "/tmp";

    /// <summary>A three-member cluster takes about 150 MB; keep a wide margin (containers often cap /dev/shm at 64 MB).</summary>
    private const long MinimumSharedMemoryFree = 2L << 30;

    private static readonly Lazy<string> DefaultRootInstance = new(ChooseRoot);

    public static string[] Roots { get; } = [SharedMemoryRoot, TempRoot];

    public static string DefaultRoot => DefaultRootInstance.Value;

    /// <summary>Creates <c>&lt;root&gt;/pggate-&lt;label&gt;-&lt;random&gt;</c>.</summary>
    public static string CreateUnique(string label)
    {
        var path = Path.Combine(DefaultRoot, string.Create(CultureInfo.InvariantCulture, $"{Prefix}{label}-{RandomSuffix()}"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>The default sandbox directory (<c>&lt;root&gt;/pggate-*</c>) a path lies in, or null.</summary>
    public static string? SandboxDirectoryOf(string path)
    {
        foreach (var root in Roots)
        {
            var prefix = root + "/" + Prefix;
            if (path.StartsWith(prefix, StringComparison.Ordinal))
            {
                var end = path.IndexOf('/', prefix.Length);
                return end < 0 ? path : path[..end];
            }
        }

        return null;
    }

    public static IEnumerable<string> EnumerateAll()
    {
        foreach (var root in Roots)
        {
            string[] found;
            try
            {
                found = Directory.GetDirectories(root, Prefix + "*");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            foreach (var directory in found)
            {
                yield return directory;
            }
        }
    }

    private static string ChooseRoot()
    {
        try
        {
            var drive = new DriveInfo(SharedMemoryRoot);
            if (drive.IsReady && drive.DriveFormat == "tmpfs" && drive.AvailableFreeSpace >= MinimumSharedMemoryFree)
            {
                return SharedMemoryRoot;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // No usable /dev/shm: fall back to /tmp.
        }

        return TempRoot;
    }

    private static string RandomSuffix()
    {
        const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        Span<char> suffix = stackalloc char[8];
        for (var i = 0; i < suffix.Length; i++)
        {
            suffix[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        }

        return new string(suffix);
    }
}
