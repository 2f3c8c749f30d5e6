using System.Globalization;
using System.Net;
using System.Net.Sockets;
using PgGate.Pooling.Ini;
using static PgGate.Pooling.Console.ConsoleColumnType;

namespace PgGate.Pooling.Console;

/// <summary>The SHOW tables, with PgBouncer 1.18's column names, order and types, filled from a <see cref="PoolerReport"/>.</summary>
internal static class ConsoleTables
{
    public static ConsoleTable Pools(PoolerReport report)
    {
        var table = new ConsoleTable(
            ("database", Text), ("user", Text), ("cl_active", Int4), ("cl_waiting", Int4), ("cl_active_cancel_req", Int4),
            ("cl_waiting_cancel_req", Int4), ("sv_active", Int4), ("sv_active_cancel", Int4), ("sv_being_canceled", Int4),
            ("sv_idle", Int4), ("sv_used", Int4), ("sv_tested", Int4), ("sv_login", Int4), ("maxwait", Int4), ("maxwait_us", Int4),
            ("pool_mode", Text));

        // A (database, user) can have pools on several backends (a service's members, or old and new after RELOAD):
        // one row each, as exporters key metrics by these two labels.
        var rows = new SortedDictionary<(string, string), PoolInfo>();
        foreach (var pool in report.Pools)
        {
            var key = (pool.Database, pool.User);
            rows[key] = rows.TryGetValue(key, out var sum) ? Merge(sum, pool) : pool;
        }

        foreach (var pool in rows.Values)
        {
            var (seconds, micros) = Split(pool.MaxWait);
            table.Add(pool.Database, pool.User, N(pool.ClientsActive), N(pool.ClientsWaiting), N(pool.ClientsActiveCancelRequests),
                N(pool.ClientsWaitingCancelRequests), N(pool.ServersActive), "0", "0", N(pool.ServersIdle), N(pool.ServersUsed),
                N(pool.ServersTested), N(pool.ServersLogin), N(seconds), N(micros), Mode(pool.PoolMode));
        }

        return table;
    }

    private static PoolInfo Merge(PoolInfo a, PoolInfo b) => a with
    {
        ClientsActive = a.ClientsActive + b.ClientsActive,
        ClientsWaiting = a.ClientsWaiting + b.ClientsWaiting,
        ClientsActiveCancelRequests = a.ClientsActiveCancelRequests + b.ClientsActiveCancelRequests,
        ClientsWaitingCancelRequests = a.ClientsWaitingCancelRequests + b.ClientsWaitingCancelRequests,
        ServersActive = a.ServersActive + b.ServersActive,
        ServersIdle = a.ServersIdle + b.ServersIdle,
        ServersUsed = a.ServersUsed + b.ServersUsed,
        ServersTested = a.ServersTested + b.ServersTested,
        ServersLogin = a.ServersLogin + b.ServersLogin,
        MaxWait = a.MaxWait > b.MaxWait ? a.MaxWait : b.MaxWait,
    };

    public static ConsoleTable Clients(PoolerReport report)
    {
        var table = ConnectionTable();
        foreach (var client in report.Clients)
        {
            var (address, port) = Address(client.RemoteEndPoint);
            var (localAddress, localPort) = Address(client.LocalEndPoint);
            var (seconds, micros) = Split(client.Wait);
            table.Add("C", client.User, client.Database, client.State, address, port, localAddress, localPort,
                Timestamp(client.ConnectTime), Timestamp(client.RequestTime), N(seconds), N(micros), "0", Pointer(client.Id),
                client.LinkedServerId is { } server ? Pointer(server) : string.Empty, "0", client.Tls ? "TLS" : string.Empty,
                client.ApplicationName ?? string.Empty);
        }

        return table;
    }

    public static ConsoleTable Servers(PoolerReport report)
    {
        var table = ConnectionTable();
        foreach (var server in report.Servers)
        {
            var (address, port) = Address(server.RemoteEndPoint);
            var (localAddress, localPort) = Address(server.LocalEndPoint);
            table.Add("S", server.User, server.Database, server.State, address, port, localAddress, localPort,
                Timestamp(server.ConnectTime), Timestamp(server.RequestTime), "0", "0", server.CloseNeeded ? "1" : "0",
                Pointer(server.Id), server.LinkedClientId is { } client ? Pointer(client) : string.Empty, N(server.RemoteProcessId),
                string.Empty, server.ApplicationName ?? string.Empty);
        }

        return table;
    }

    private static ConsoleTable ConnectionTable() => new(
        ("type", Text), ("user", Text), ("database", Text), ("state", Text), ("addr", Text), ("port", Int4), ("local_addr", Text),
        ("local_port", Int4), ("connect_time", Text), ("request_time", Text), ("wait", Int4), ("wait_us", Int4), ("close_needed", Int4),
        ("ptr", Text), ("link", Text), ("remote_pid", Int4), ("tls", Text), ("application_name", Text));

    public static ConsoleTable Stats(PoolerReport report)
    {
        var table = new ConsoleTable(
            ("database", Text), ("total_xact_count", Numeric), ("total_query_count", Numeric), ("total_received", Numeric),
            ("total_sent", Numeric), ("total_xact_time", Numeric), ("total_query_time", Numeric), ("total_wait_time", Numeric),
            ("avg_xact_count", Numeric), ("avg_query_count", Numeric), ("avg_recv", Numeric), ("avg_sent", Numeric),
            ("avg_xact_time", Numeric), ("avg_query_time", Numeric), ("avg_wait_time", Numeric));
        foreach (var stats in report.Stats)
        {
            var t = stats.Totals;
            var a = stats.Averages;
            table.Add(stats.Database, L(t.XactCount), L(t.QueryCount), L(t.BytesReceived), L(t.BytesSent), L(t.XactTime), L(t.QueryTime),
                L(t.WaitTime), L(a.XactCount), L(a.QueryCount), L(a.BytesReceived), L(a.BytesSent), L(a.XactTime), L(a.QueryTime),
                L(a.WaitTime));
        }

        return table;
    }

    /// <summary>STATS_TOTALS or STATS_AVERAGES: the same columns without their total_/avg_ prefix.</summary>
    public static ConsoleTable StatsPart(PoolerReport report, bool averages)
    {
        var table = new ConsoleTable(
            ("database", Text), ("xact_count", Numeric), ("query_count", Numeric), ("bytes_received", Numeric), ("bytes_sent", Numeric),
            ("xact_time", Numeric), ("query_time", Numeric), ("wait_time", Numeric));
        foreach (var stats in report.Stats)
        {
            var v = averages ? stats.Averages : stats.Totals;
            table.Add(stats.Database, L(v.XactCount), L(v.QueryCount), L(v.BytesReceived), L(v.BytesSent), L(v.XactTime), L(v.QueryTime),
                L(v.WaitTime));
        }

        return table;
    }

    /// <summary>SHOW TOTALS: SHOW STATS summed over every database, as name/value rows.</summary>
    public static ConsoleTable Totals(PoolerReport report)
    {
        StatsValues totals = default;
        StatsValues averages = default;
        foreach (var stats in report.Stats)
        {
            totals = totals.Add(stats.Totals);
            averages = averages.Add(stats.Averages);
        }

        var table = new ConsoleTable(("name", Text), ("value", Numeric));
        table.Add("total_xact_count", L(totals.XactCount));
        table.Add("total_query_count", L(totals.QueryCount));
        table.Add("total_client_bytes", L(totals.BytesReceived));
        table.Add("total_server_bytes", L(totals.BytesSent));
        table.Add("total_xact_time", L(totals.XactTime));
        table.Add("total_query_time", L(totals.QueryTime));
        table.Add("total_wait_time", L(totals.WaitTime));
        table.Add("avg_xact_count", L(averages.XactCount));
        table.Add("avg_query_count", L(averages.QueryCount));
        table.Add("avg_client_bytes", L(averages.BytesReceived));
        table.Add("avg_server_bytes", L(averages.BytesSent));
        table.Add("avg_xact_time", L(averages.XactTime));
        table.Add("avg_query_time", L(averages.QueryTime));
        table.Add("avg_wait_time", L(averages.WaitTime));
        return table;
    }

    public static ConsoleTable Databases(PoolerReport report, PoolerSettings settings)
    {
        var table = new ConsoleTable(
            ("name", Text), ("host", Text), ("port", Int4), ("database", Text), ("force_user", Text), ("pool_size", Int4),
            ("min_pool_size", Int4), ("reserve_pool", Int4), ("pool_mode", Text), ("max_connections", Int4),
            ("current_connections", Int4), ("paused", Int4), ("disabled", Int4));
        foreach (var database in report.Databases)
        {
            table.Add(database.Name, database.Host, N(database.Port), database.ServerDatabase, database.ForceUser, N(database.PoolSize),
                N(database.MinPoolSize), N(database.ReservePool), database.PoolMode is { } mode ? Mode(mode) : null,
                N(database.MaxConnections), N(database.CurrentConnections), database.Paused ? "1" : "0", database.Disabled ? "1" : "0");
        }

        // The console itself, as PgBouncer lists it.
        table.Add("pgbouncer", null, N(settings.ListenPort), "pgbouncer", "pgbouncer", "2", "0", "0", "statement", "0", "0", "0", "0");
        return table;
    }

    public static ConsoleTable Users(PoolerReport report)
    {
        var table = new ConsoleTable(("name", Text), ("pool_mode", Text));
        foreach (var user in report.Users)
        {
            table.Add(user.Name, user.PoolMode is { } mode ? Mode(mode) : null);
        }

        return table;
    }

    public static ConsoleTable Lists(PoolerReport report)
    {
        var lists = report.Lists;
        var table = new ConsoleTable(("list", Text), ("items", Int4));
        table.Add("databases", N(lists.Databases));
        table.Add("users", N(lists.Users));
        table.Add("pools", N(lists.Pools));
        table.Add("free_clients", N(lists.FreeClients));
        table.Add("used_clients", N(lists.UsedClients));
        table.Add("login_clients", N(lists.LoginClients));
        table.Add("free_servers", N(lists.FreeServers));
        table.Add("used_servers", N(lists.UsedServers));
        table.Add("dns_names", "0");
        table.Add("dns_zones", "0");
        table.Add("dns_queries", "0");
        table.Add("dns_pending", "0");
        return table;
    }

    public static ConsoleTable Config(PoolerSettings settings)
    {
        var table = new ConsoleTable(("key", Text), ("value", Text), ("default", Text), ("changeable", Text));
        foreach (var key in PoolerSettingKeys.All)
        {
            table.Add(key.Name, key.Format(settings), key.Format(PoolerSettingKeys.PgBouncerDefaults), key.Changeable ? "yes" : "no");
        }

        return table;
    }

    public static ConsoleTable Version()
    {
        var table = new ConsoleTable(("version", Text));
        table.Add(Pooler.Version);
        return table;
    }

    /// <summary>Tables PgGate has no content for (no memory caches, FD passing or DNS cache): the columns, no rows.</summary>
    public static ConsoleTable Empty(string what) => what switch
    {
        "MEM" => new(("name", Text), ("size", Int4), ("used", Int4), ("free", Int4), ("memtotal", Int4)),
        "FDS" => new(("fd", Int4), ("task", Text), ("user", Text), ("database", Text), ("addr", Text), ("port", Int4), ("cancel", Numeric),
            ("link", Int4), ("client_encoding", Text), ("std_strings", Text), ("datestyle", Text), ("timezone", Text), ("password", Text),
            ("scram_client_key", Text), ("scram_server_key", Text)),
        "DNS_HOSTS" => new(("hostname", Text), ("ttl", Numeric), ("addrs", Text)),
        _ => new(("zonename", Text), ("serial", Numeric), ("count", Int4)),
    };

    private static string N(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string L(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Pointer(long id) => "0x" + id.ToString("x", CultureInfo.InvariantCulture);

    private static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

    private static (int Seconds, int Micros) Split(TimeSpan time)
    {
        var micros = (long)(time.Ticks / 10);
        return ((int)Math.Min(int.MaxValue, micros / 1_000_000), (int)(micros % 1_000_000));
    }

    private static (string? Address, string? Port) Address(EndPoint? endpoint) => endpoint switch
    {
        IPEndPoint ip => (ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4().ToString() : ip.Address.ToString(), N(ip.Port)),
        UnixDomainSocketEndPoint => ("unix", null),
        _ => (null, null),
    };

    public static string Mode(PoolMode mode) => SettingValues.Format(mode);
}
