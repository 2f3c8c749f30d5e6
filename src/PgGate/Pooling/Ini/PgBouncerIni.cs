namespace PgGate.Pooling.Ini;

/// <summary>
/// Reads PgBouncer's <c>pgbouncer.ini</c> (with <c>%include</c>, <c>[databases]</c>, <c>[users]</c>, <c>[pgbouncer]</c>)
/// into <see cref="PoolerSettings"/>, so that a PgBouncer user switches by changing one command. Settings the file
/// leaves out keep PgBouncer's defaults (<see cref="PoolerSettingKeys.PgBouncerDefaults"/>). PgBouncer settings PgGate
/// does not support are warnings naming file:line; bad values fail with one line naming file, line, key and the expected
/// form. Relative paths of auth_file, auth_hba_file and the TLS files are taken from the ini file's directory.
/// </summary>
public static class PgBouncerIni
{
    /// <exception cref="PoolerConfigurationException">The file or an included one cannot be read, or a value is invalid.</exception>
    public static PgBouncerIniResult Load(string path)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new PoolerConfigurationException($"{path}: no such file (give the path of a pgbouncer.ini)");
        }

        return FromEntries(fullPath, IniDocument.Load(fullPath), Path.GetDirectoryName(fullPath) ?? ".");
    }

    /// <summary>Maps ini text (for tests and tools); includes and relative paths resolve against <paramref name="directory"/>.</summary>
    public static PgBouncerIniResult Parse(string text, string source = "pgbouncer.ini", string? directory = null)
    {
        directory ??= Directory.GetCurrentDirectory();
        return FromEntries(source, IniDocument.Parse(text, source, directory), directory);
    }

    private static PgBouncerIniResult FromEntries(string source, IReadOnlyList<IniEntry> entries, string directory)
    {
        var settings = PoolerSettingKeys.PgBouncerDefaults;
        var warnings = new List<string>();
        var databases = new List<PoolerDatabase>();
        var users = new List<PoolerUser>();
        var listenAddrSet = false;
        foreach (var entry in entries)
        {
            switch (entry.Section)
            {
                case "pgbouncer":
                    settings = ApplyGlobal(settings, entry, warnings);
                    listenAddrSet |= string.Equals(entry.Key, "listen_addr", StringComparison.OrdinalIgnoreCase);
                    break;
                case "databases":
                    AddOrReplace(databases, ParseDatabase(entry, warnings), static d => d.Name);
                    break;
                case "users":
                    AddOrReplace(users, ParseUser(entry, warnings), static u => u.Name);
                    break;
                case "peers":
                    warnings.Add($"{entry.Where}: [peers] is not supported, ignored (PgGate runs every core in one process; cancels need no peering)");
                    break;
                case "":
                    throw new PoolerConfigurationException(
                        $"{entry.Where}: {entry.Key} appears before any section; put it under [pgbouncer], [databases] or [users]");
                default:
                    warnings.Add($"{entry.Where}: section [{entry.Section}] is not a PgBouncer section, ignored");
                    break;
            }
        }

        if (!listenAddrSet || settings.ListenAddr.Length == 0)
        {
            warnings.Add($"{source}: listen_addr is not set: PgBouncer would listen on its Unix socket only; PgGate listens on 127.0.0.1");
            settings = settings with { ListenAddr = "127.0.0.1" };
        }

        settings = settings with
        {
            Databases = databases,
            Users = users,
            AuthFile = Resolve(settings.AuthFile, directory),
            AuthHbaFile = Resolve(settings.AuthHbaFile, directory),
            ClientTlsCertFile = Resolve(settings.ClientTlsCertFile, directory),
            ClientTlsKeyFile = Resolve(settings.ClientTlsKeyFile, directory),
            ClientTlsCaFile = Resolve(settings.ClientTlsCaFile, directory),
        };
        if (settings.AuthType == PoolerAuthType.Hba && settings.AuthHbaFile is null)
        {
            throw new PoolerConfigurationException($"{source}: auth_type = hba needs auth_hba_file (a pg_hba.conf-style file)");
        }

        return new PgBouncerIniResult(source, settings, warnings);
    }

    private static PoolerSettings ApplyGlobal(PoolerSettings settings, IniEntry entry, List<string> warnings)
    {
        var key = PoolerSettingKeys.Find(entry.Key);
        if (key is null)
        {
            var reason = PoolerSettingKeys.IgnoredReason(entry.Key);
            if (reason is null)
            {
                warnings.Add($"{entry.Where}: unknown setting {entry.Key}, ignored");
            }
            else if (IsHarmlessDefault(entry))
            {
                // Setting a feature PgGate lacks to "off" asks for nothing PgGate does not do: no warning.
            }
            else if (entry.Key.Equals("server_tls_sslmode", StringComparison.OrdinalIgnoreCase))
            {
                throw new PoolerConfigurationException(
                    $"{entry.Where}: server_tls_sslmode = {entry.Value} is not supported: PgGate connects to servers without TLS; " +
                    "expected disable, allow or prefer (or remove the line)");
            }
            else
            {
                warnings.Add($"{entry.Where}: {entry.Key} is not supported, ignored ({reason})");
            }

            return settings;
        }

        try
        {
            return key.Apply(settings, entry.Value);
        }
        catch (FormatException e)
        {
            throw new PoolerConfigurationException($"{entry.Where}: {key.Name} = {entry.Value}: expected {e.Message}");
        }
    }

    /// <summary>Values of unsupported settings that mean "off" or "as PgGate does anyway".</summary>
    private static bool IsHarmlessDefault(IniEntry entry)
    {
        var value = entry.Value.Trim().ToLowerInvariant();
        return entry.Key.ToLowerInvariant() switch
        {
            "log_connections" or "log_disconnections" or "log_pooler_errors" or "log_stats" or "application_name_add_host"
                or "server_round_robin" or "syslog" or "so_reuseport" or "disable_pqexec" or "verbose" or "server_fast_close"
                or "query_timeout" or "tcp_keepcnt" or "tcp_keepidle" or "tcp_keepintvl" or "tcp_user_timeout" or "tcp_socket_buffer"
                => value is "0" or "no" or "off" or "false" or "",
            "tcp_keepalive" => value is "1" or "yes" or "on" or "true",
            "server_tls_sslmode" => value is "disable" or "allow" or "prefer",
            _ => false,
        };
    }

    private static PoolerDatabase ParseDatabase(IniEntry entry, List<string> warnings)
    {
        var name = entry.Key;
        if (PoolerSettings.Contains(PoolerSettings.ConsoleDatabases, name))
        {
            throw new PoolerConfigurationException($"{entry.Where}: database name {name} is reserved for the admin console; rename the entry");
        }

        var database = new PoolerDatabase { Name = name };
        foreach (var (key, value) in ParsePairs(entry))
        {
            database = key switch
            {
                "dbname" => database with { DbName = value },
                "host" => database with { Host = ParseHost(entry, value) },
                "port" => database with { Port = Number(entry, key, value, 1, 65535, SettingValues.Port) },
                "user" => database with { User = value },
                "password" => database with { Password = value },
                "auth_user" => database with { AuthUser = value },
                "pool_size" => database with { PoolSize = Number(entry, key, value) },
                "min_pool_size" => database with { MinPoolSize = Number(entry, key, value) },
                "reserve_pool" or "reserve_pool_size" => database with { ReservePool = Number(entry, key, value) },
                "max_db_connections" => database with { MaxDbConnections = Number(entry, key, value) },
                "pool_mode" => database with { PoolMode = Mode(entry, value) },
                _ => Unsupported(database, entry, key, DatabaseKeyReason(key), warnings),
            };
        }

        if (database.User is null && database.Password is not null)
        {
            warnings.Add($"{entry.Where}: database {name} sets password= without user=, the password is not used");
        }

        return database;
    }

    private static string? DatabaseKeyReason(string key) => key switch
    {
        "client_encoding" or "datestyle" or "timezone" or "application_name" =>
            "clients' own settings are carried to every server connection; set defaults in PostgreSQL (ALTER DATABASE ... SET)",
        "connect_query" => "run it with ALTER DATABASE/ROLE ... SET, or in the client",
        "auth_dbname" => "auth_query runs in the client's database",
        "max_db_client_connections" or "server_lifetime" => "not available per database",
        _ => null,
    };

    private static PoolerUser ParseUser(IniEntry entry, List<string> warnings)
    {
        var user = new PoolerUser { Name = entry.Key };
        foreach (var (key, value) in ParsePairs(entry))
        {
            user = key switch
            {
                "pool_mode" => user with { PoolMode = Mode(entry, value) },
                "max_user_connections" => user with { MaxUserConnections = Number(entry, key, value) },
                _ => UnsupportedUser(user, entry, key, warnings),
            };
        }

        return user;
    }

    private static List<KeyValuePair<string, string>> ParsePairs(IniEntry entry)
    {
        try
        {
            return ConnectString.Parse(entry.Value);
        }
        catch (FormatException e)
        {
            throw new PoolerConfigurationException($"{entry.Where}: {entry.Key} = {entry.Value}: {e.Message} (e.g. host=127.0.0.1 port=5432 dbname=app)");
        }
    }

    private static string ParseHost(IniEntry entry, string value)
    {
        if (value.Contains(',', StringComparison.Ordinal))
        {
            throw new PoolerConfigurationException(
                $"{entry.Where}: {entry.Key}: host={value}: expected one host; for several servers use a PgGate service with dest: pool");
        }

        return value;
    }

    private static int Number(IniEntry entry, string key, string value, int min = 0, int max = int.MaxValue, string form = SettingValues.WholeNumber)
    {
        try
        {
            return SettingValues.ParseInt(value, min, max, form);
        }
        catch (FormatException e)
        {
            throw new PoolerConfigurationException($"{entry.Where}: {entry.Key}: {key}={value}: expected {e.Message}");
        }
    }

    private static PoolMode Mode(IniEntry entry, string value)
    {
        try
        {
            return SettingValues.ParsePoolMode(value);
        }
        catch (FormatException e)
        {
            throw new PoolerConfigurationException($"{entry.Where}: {entry.Key}: pool_mode={value}: expected {e.Message}");
        }
    }

    private static PoolerDatabase Unsupported(PoolerDatabase database, IniEntry entry, string key, string? reason, List<string> warnings)
    {
        warnings.Add(reason is null
            ? $"{entry.Where}: database {entry.Key}: unknown parameter {key}, ignored"
            : $"{entry.Where}: database {entry.Key}: {key} is not supported, ignored ({reason})");
        return database;
    }

    private static PoolerUser UnsupportedUser(PoolerUser user, IniEntry entry, string key, List<string> warnings)
    {
        warnings.Add($"{entry.Where}: user {entry.Key}: {key} is not supported, ignored (only pool_mode and max_user_connections are)");
        return user;
    }

    private static void AddOrReplace<T>(List<T> list, T item, Func<T, string> name)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (string.Equals(name(list[i]), name(item), StringComparison.Ordinal))
            {
                list[i] = item;
                return;
            }
        }

        list.Add(item);
    }

    private static string? Resolve(string? path, string directory) =>
        path is null ? null : Path.GetFullPath(path, directory);
}
