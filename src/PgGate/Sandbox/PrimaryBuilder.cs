using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace PgGate.Sandbox;

/// <summary>The steps that make a primary's data directory: initdb with the sandbox's settings, then users and databases.</summary>
internal static class PrimaryBuilder
{
    public static async Task InitdbAsync(
        PostgresInstallation installation,
        OsUser osUser,
        ILogger logger,
        string dataDirectory,
        LocalClusterOptions options,
        CancellationToken cancellationToken)
    {
        var initdb = await CommandRunner.RunAsync(
            osUser,
            installation.Initdb,
            ["-D", dataDirectory, "-U", Psql.Superuser, "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8",
                "--locale=C", "--no-sync", "--no-instructions"],
            logger,
            cancellationToken,
            timeout: options.StepTimeout);
        var advice = initdb.StandardError.Contains("Permission denied", StringComparison.Ordinal) && osUser.SwitchesUser
            ? $"OS user {osUser.Name} must be able to reach {dataDirectory}: put BaseDirectory where every parent directory " +
              "is world-searchable (the defaults under /dev/shm and /tmp are)."
            : null;
        initdb.ThrowIfFailed($"create the data directory {dataDirectory}", advice: advice);
        ServerFiles.AppendClusterSettings(dataDirectory, options);
        ServerFiles.WriteHba(dataDirectory, options, osUser);
    }

    public static string UsersAndDatabasesSql(LocalClusterOptions options)
    {
        var sql = new StringBuilder();
        foreach (var user in options.Users)
        {
            sql.Append(CultureInfo.InvariantCulture, $"CREATE ROLE {Quoting.SqlIdentifier(user.Name)} WITH LOGIN");
            sql.Append(user.Superuser ? " SUPERUSER" : "");
            sql.Append(user.Replication ? " REPLICATION" : "");
            sql.Append(CultureInfo.InvariantCulture, $" PASSWORD {Quoting.SqlLiteral(user.Password)};\n");
            foreach (var role in user.MemberOf)
            {
                sql.Append(CultureInfo.InvariantCulture, $"GRANT {Quoting.SqlIdentifier(role)} TO {Quoting.SqlIdentifier(user.Name)};\n");
            }
        }

        foreach (var database in options.Databases)
        {
            sql.Append(CultureInfo.InvariantCulture, $"CREATE DATABASE {Quoting.SqlIdentifier(database.Name)} OWNER {Quoting.SqlIdentifier(database.Owner)};\n");
        }

        return sql.ToString();
    }
}
