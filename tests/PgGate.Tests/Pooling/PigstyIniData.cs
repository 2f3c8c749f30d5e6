using System.Runtime.CompilerServices;

namespace PgGate.Tests.Pooling;

/// <summary>Pigsty's pgbouncer.ini, database.txt, useropts.txt, userlist.txt and pgb_hba.conf as Pigsty renders them for
/// pg-test-1 (Data/Pigsty), copied to a temporary directory with /etc/pgbouncer/ pointing there.</summary>
internal static class PigstyIniData
{
    public static string SourceDirectory([CallerFilePath] string thisFile = "") =>
        Path.Combine(Path.GetDirectoryName(thisFile)!, "Data", "Pigsty");

    /// <summary>Copies the files to a new temporary directory, rewriting "/etc/pgbouncer/"; returns the directory.</summary>
    public static DirectoryInfo CopyToTemporaryDirectory()
    {
        var directory = Directory.CreateTempSubdirectory("pggate-ini-test-");
        foreach (var file in Directory.GetFiles(SourceDirectory()))
        {
            var text = File.ReadAllText(file).Replace("/etc/pgbouncer/", directory.FullName + "/", StringComparison.Ordinal);
            File.WriteAllText(Path.Combine(directory.FullName, Path.GetFileName(file)), text);
        }

        return directory;
    }
}
