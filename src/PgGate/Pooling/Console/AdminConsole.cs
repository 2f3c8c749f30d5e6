using PgGate.Pooling.Ini;
using PgGate.Protocol;

namespace PgGate.Pooling.Console;

/// <summary>
/// The admin console's commands (PgBouncer's, on the virtual database <c>pgbouncer</c> or <c>pggate</c>): SHOW for
/// admin_users and stats_users, everything else for admin_users only. Messages are PgBouncer's where scripts may match
/// them; SQLSTATEs are PostgreSQL's meaning rather than PgBouncer's blanket 08P01 (protocol violation), which makes
/// drivers such as Npgsql drop the connection: 42601 for an unknown command, 42501 for a stats user asking for an admin
/// command, 0A000 for PgBouncer commands PgGate does not have, 3D000 for an unknown database, 55000 for PAUSE/RESUME in
/// the wrong state, 42704/22023/55P02 for SET of an unknown key/bad value/start-only key, F0000 when RELOAD or SET meets a
/// broken configuration.
/// </summary>
internal sealed class AdminConsole(Pooler pooler)
{
    private const string SyntaxError = "42601";
    private const string WrongState = SqlState.ObjectNotInPrerequisiteState;
    private static readonly TimeSpan WaitClosePollInterval = TimeSpan.FromMilliseconds(50);

    public const string Help = """
        SHOW HELP|CONFIG|DATABASES|POOLS|CLIENTS|SERVERS|USERS|VERSION
        SHOW FDS|LISTS|MEM|DNS_HOSTS|DNS_ZONES
        SHOW STATS|STATS_TOTALS|STATS_AVERAGES|TOTALS
        SET key = arg
        RELOAD
        PAUSE [<db>]
        RESUME [<db>]
        RECONNECT [<db>]
        KILL <db>
        DISABLE <db>
        ENABLE <db>
        SHUTDOWN
        WAIT_CLOSE [<db>]
        """;

    /// <summary>True for commands that only read (SHOW): these may run at Describe time in the extended protocol.</summary>
    public static bool IsReadOnly(string query) => ConsoleCommand.Parse(query) is { Verb: "SHOW" };

    public async Task<ConsoleReply> ExecuteAsync(string query, bool isAdmin, CancellationToken cancellationToken)
    {
        if (ConsoleCommand.Parse(query) is not { } command)
        {
            return Invalid(query);
        }

        if (command.Verb == "SHOW")
        {
            return Show(command.Argument, query);
        }

        if (!IsKnown(command.Verb))
        {
            return Invalid(query);
        }

        if (!isAdmin)
        {
            return ConsoleReply.Error("42501", "admin access needed",
                "This user is in stats_users, which may only run SHOW commands; add it to admin_users for " + command.Verb + ".");
        }

        switch (command.Verb)
        {
            case "PAUSE":
                return await PauseAsync(command.Argument, cancellationToken).ConfigureAwait(false);
            case "RESUME":
                return Resume(command.Argument);
            case "RECONNECT":
                if (UnknownDatabase(command.Argument) is { } unknownReconnect)
                {
                    return unknownReconnect;
                }

                pooler.Reconnect(command.Argument);
                return ConsoleReply.Done("RECONNECT");
            case "KILL":
                if (command.Argument is null)
                {
                    return ConsoleReply.Error(SyntaxError, "a database is required", "KILL <db> drops every connection of one database.");
                }

                if (UnknownDatabase(command.Argument) is { } unknownKill)
                {
                    return unknownKill;
                }

                pooler.Kill(command.Argument);
                return ConsoleReply.Done("KILL");
            case "DISABLE":
            case "ENABLE":
                if (command.Argument is null)
                {
                    return ConsoleReply.Error(SyntaxError, "a database is required",
                        command.Verb + " <db> " + (command.Verb == "DISABLE" ? "refuses the database's new clients." : "lets them in again."));
                }

                if (UnknownDatabase(command.Argument) is { } unknownDisable)
                {
                    return unknownDisable;
                }

                if (command.Verb == "DISABLE")
                {
                    pooler.Disable(command.Argument);
                }
                else
                {
                    pooler.Enable(command.Argument);
                }

                return ConsoleReply.Done(command.Verb);
            case "RELOAD":
                try
                {
                    pooler.ReloadFromSource();
                    return ConsoleReply.Done("RELOAD");
                }
                catch (PoolerConfigurationException e)
                {
                    return ConsoleReply.Error("F0000", "RELOAD failed, the previous settings stay in force: " + e.Message);
                }

            case "WAIT_CLOSE":
                await WaitCloseAsync(command.Argument, cancellationToken).ConfigureAwait(false);
                return ConsoleReply.Done("WAIT_CLOSE");
            case "SET":
                return Set(command.Argument!, command.Value!);
            case "SHUTDOWN":
                // The reply is the connection closing (57P01), as with PgBouncer's process exiting.
                await pooler.ShutdownAsync().ConfigureAwait(false);
                return ConsoleReply.Done("SHUTDOWN");
            default:
                return ConsoleReply.Error(SqlState.FeatureNotSupported, $"{command.Verb} is not supported by PgGate",
                    "Supported: PAUSE, RESUME, RECONNECT, KILL, DISABLE, ENABLE, RELOAD, SHUTDOWN, WAIT_CLOSE, SET. " +
                    "SUSPEND and online restart are not needed (RELOAD applies every change without dropping clients); " +
                    "instead of KILL_CLIENT, KILL drops a database's clients.");
        }
    }

    private static bool IsKnown(string verb) => verb is "PAUSE" or "RESUME" or "RECONNECT" or "KILL" or "RELOAD" or "WAIT_CLOSE" or "SET"
        or "SHUTDOWN" or "DISABLE" or "ENABLE" or "SUSPEND" or "KILL_CLIENT";

    private ConsoleReply Show(string? what, string query)
    {
        var settings = pooler.Settings;
        switch (what)
        {
            case "HELP":
                return new ConsoleReply { Tag = "SHOW", NoticeMessage = "Console usage", NoticeDetail = Help };
            case "CONFIG":
                return ConsoleReply.Show(ConsoleTables.Config(settings));
            case "VERSION":
                return ConsoleReply.Show(ConsoleTables.Version());
            case "MEM":
            case "FDS":
            case "DNS_HOSTS":
            case "DNS_ZONES":
                return ConsoleReply.Show(ConsoleTables.Empty(what));
            case "SOCKETS":
            case "ACTIVE_SOCKETS":
                return ConsoleReply.Error(SqlState.FeatureNotSupported, $"SHOW {what} is not supported by PgGate",
                    "SHOW CLIENTS and SHOW SERVERS list every connection.");
        }

        var report = pooler.GetReport();
        return what switch
        {
            "POOLS" => ConsoleReply.Show(ConsoleTables.Pools(report)),
            "CLIENTS" => ConsoleReply.Show(ConsoleTables.Clients(report)),
            "SERVERS" => ConsoleReply.Show(ConsoleTables.Servers(report)),
            "STATS" => ConsoleReply.Show(ConsoleTables.Stats(report)),
            "STATS_TOTALS" => ConsoleReply.Show(ConsoleTables.StatsPart(report, averages: false)),
            "STATS_AVERAGES" => ConsoleReply.Show(ConsoleTables.StatsPart(report, averages: true)),
            "TOTALS" => ConsoleReply.Show(ConsoleTables.Totals(report)),
            "DATABASES" => ConsoleReply.Show(ConsoleTables.Databases(report, settings)),
            "USERS" => ConsoleReply.Show(ConsoleTables.Users(report)),
            "LISTS" => ConsoleReply.Show(ConsoleTables.Lists(report)),
            _ => Invalid(query),
        };
    }

    private async Task<ConsoleReply> PauseAsync(string? database, CancellationToken cancellationToken)
    {
        if (UnknownDatabase(database) is { } unknown)
        {
            return unknown;
        }

        if (database is null ? pooler.IsPausedAll : pooler.IsPaused(database))
        {
            return ConsoleReply.Error(WrongState, database is null ? "already paused" : $"database {database} is already paused");
        }

        await pooler.PauseAsync(database, cancellationToken).ConfigureAwait(false);
        return ConsoleReply.Done("PAUSE");
    }

    private ConsoleReply Resume(string? database)
    {
        if (database is null ? !pooler.IsAnyPaused : !pooler.IsPaused(database))
        {
            return ConsoleReply.Error(WrongState,
                database is null ? "pooler is not paused/suspended" : $"database {database} is not paused");
        }

        pooler.Resume(database);
        return ConsoleReply.Done("RESUME");
    }

    private async Task WaitCloseAsync(string? database, CancellationToken cancellationToken)
    {
        while (true)
        {
            var waiting = false;
            foreach (var server in pooler.GetServers())
            {
                waiting |= server.CloseNeeded && (database is null || server.Database == database);
            }

            if (!waiting)
            {
                return;
            }

            await Task.Delay(WaitClosePollInterval, pooler.Time, cancellationToken).ConfigureAwait(false);
        }
    }

    private ConsoleReply Set(string name, string value)
    {
        var key = PoolerSettingKeys.Find(name);
        if (key is null)
        {
            return ConsoleReply.Error(SqlState.UndefinedObject,
                PoolerSettingKeys.IgnoredReason(name) is { } reason
                    ? $"SET failed: {name} is not supported by PgGate ({reason})"
                    : $"SET failed: unknown setting {name}",
                "SHOW CONFIG lists the settings; those marked changeable can be SET.");
        }

        if (!key.Changeable)
        {
            return ConsoleReply.Error("55P02", $"SET failed: {key.Name} cannot be changed while running",
                "Change it in the configuration file and restart PgGate.");
        }

        try
        {
            pooler.Reload(key.Apply(pooler.Settings, value));
        }
        catch (FormatException e)
        {
            return ConsoleReply.Error("22023", $"SET failed: {key.Name} = {value}: expected {e.Message}");
        }
        catch (PoolerConfigurationException e)
        {
            return ConsoleReply.Error("F0000", $"SET failed: {e.Message}");
        }

        return ConsoleReply.Done($"SET {key.Name}={value}");
    }

    private ConsoleReply? UnknownDatabase(string? database)
    {
        if (database is null || pooler.Settings.FindDatabase(database) is not null || pooler.IsPaused(database))
        {
            return null;
        }

        return ConsoleReply.Error(SqlState.InvalidCatalogName, $"no such database: {database}", "SHOW DATABASES lists them.");
    }

    private static ConsoleReply Invalid(string query) =>
        ConsoleReply.Error(SyntaxError, $"invalid command '{query.Trim()}', use SHOW HELP;", "Commands:\n" + Help);
}
