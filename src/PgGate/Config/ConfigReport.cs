using System.Globalization;
using System.Text;
using PgGate.Services.Selection;

namespace PgGate.Config;

/// <summary>
/// The text <c>pggate check-config</c> prints: for each cluster (or only those a node belongs to) the members and every service
/// with its bind address, destination, check, balance, limits, <c>default-server</c> options and its server list in HAProxy
/// order, computed from the configured roles (the static view; at run time live roles take over).
/// </summary>
public static class ConfigReport
{
    /// <param name="node">A member name or host; when given, only the clusters that node serves are shown.</param>
    /// <exception cref="ConfigException">The node is not a member of any cluster.</exception>
    public static string Render(GateConfig config, string? node = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var clusters = new List<ClusterConfig>();
        MemberConfig? self = null;
        foreach (var cluster in config.Clusters)
        {
            if (node is null)
            {
                clusters.Add(cluster);
                continue;
            }
            if (cluster.FindMember(node) is { } m)
            {
                self ??= m;
                clusters.Add(cluster);
            }
        }
        if (node is not null && clusters.Count == 0)
        {
            var known = new List<string>();
            foreach (var c in config.Clusters)
            {
                foreach (var m in c.Members)
                    known.Add(m.Name + " (" + m.Host + ")");
            }
            throw new ConfigException(new SourceLocation(config.SourceFile, 0, 0), "node",
                "node " + node + " is not a member of any cluster; known members: " + string.Join(", ", known));
        }

        var sb = new StringBuilder(4096);
        sb.Append("configuration ").Append(config.SourceFile).Append(" (")
            .Append(config.Format == ConfigFormat.PigstyInventory ? "Pigsty inventory" : "native pggate.yml").Append(")\n");
        if (self is not null)
            sb.Append("node ").Append(self.Name).Append(" (").Append(self.Host).Append(")\n");
        sb.Append("admin listen ").Append(config.Admin.Listen);
        if (config.Admin.RequiresAuthentication)
            sb.Append(" (write endpoints need HTTP Basic credentials of user ").Append(config.Admin.Username).Append(')');
        sb.Append('\n');

        foreach (var cluster in clusters)
            RenderCluster(sb, cluster, self);

        if (config.Warnings.Count > 0)
        {
            sb.Append('\n');
            foreach (var w in config.Warnings)
                sb.Append("warning: ").Append(w).Append('\n');
        }
        return sb.ToString();
    }

    private static void RenderCluster(StringBuilder sb, ClusterConfig cluster, MemberConfig? self)
    {
        var h = cluster.Health;
        sb.Append('\n');
        sb.Append("cluster ").Append(cluster.Name).Append("  [").Append(cluster.Location).Append("]\n");
        sb.Append("  health ").Append(h.Source.ToString().ToLowerInvariant()).Append(", rto ").Append(h.Rto)
            .Append(", check timeout ").Append(HaproxyTime.Format(h.CheckTimeout));
        if (h.Source == HealthSource.Patroni && h.Patroni.Ssl)
            sb.Append(", patroni over https");
        if (h.Source == HealthSource.Dcs)
            sb.Append(", etcd ").AppendJoin(" ", h.Dcs.Endpoints);
        sb.Append('\n');
        if (cluster.Vip is not null)
            sb.Append("  vip ").Append(cluster.Vip).Append('\n');
        sb.Append("  dest default = ").Append(cluster.DefaultServiceDest.ToString()).Append('\n');

        sb.Append("  members (configured roles):\n");
        foreach (var m in cluster.Members)
        {
            sb.Append("    ").Append(m.Name).Append(' ').Append(m.Host).Append(' ').Append(m.Role);
            if (m.OfflineQuery)
                sb.Append(" offline_query");
            sb.Append(" pg ").Append(Int(m.PgPort)).Append(" pooler ").Append(Int(m.PoolerPort))
                .Append(" patroni ").Append(Int(m.PatroniPort)).Append(" weight ").Append(Int(m.Weight));
            if (self is not null && ReferenceEquals(m, cluster.FindMember(self.Name)))
                sb.Append("  <- this node");
            sb.Append('\n');
        }
        if (cluster.Pooler is { } pooler)
            RenderPooler(sb, pooler, self);
        sb.Append("  services run on ").Append(self is null ? "every member" : "this node").Append(":\n");

        var documents = new List<IReadOnlyDictionary<string, object?>>(cluster.Members.Count);
        foreach (var m in cluster.Members)
            documents.Add(m.Vars);

        foreach (var s in cluster.Services)
        {
            sb.Append("  service ").Append(cluster.Name).Append('-').Append(s.Name).Append("  [").Append(s.Location).Append("]\n");
            sb.Append("    bind ").Append(s.Ip).Append(':').Append(Int(s.Port))
                .Append("  dest ").Append(s.Dest.ToString())
                .Append("  check ").Append(s.Check)
                .Append("  balance ").Append(HaproxyConfigRenderer.BalanceName(s.Balance))
                .Append("  maxconn ").Append(Int(s.MaxConn));
            if (s.AllBackups)
                sb.Append("  allbackups");
            sb.Append('\n');
            sb.Append("    selector ").Append(s.Selector);
            if (s.Backup is not null)
                sb.Append("  backup ").Append(s.Backup);
            sb.Append('\n');
            sb.Append("    default-server ").Append(s.OptionsText).Append('\n');

            var plan = ServerPlan.Build(s, documents);
            if (plan.Count == 0)
                sb.Append("    (no server: neither the selector nor the backup selector matches a member)\n");
            foreach (var server in plan)
            {
                var m = cluster.FindMember(server.MemberName)!;
                sb.Append("    server ").Append(m.Name).Append(' ').Append(m.Host).Append(':').Append(Int(s.Dest.PortOn(m)))
                    .Append(" weight ").Append(Int(m.Weight));
                if (server.IsBackup)
                    sb.Append(" backup");
                if (s.Dest.Kind == DestinationKind.Pool)
                    sb.Append(" pooled");
                sb.Append('\n');
            }
        }
    }

    private static void RenderPooler(StringBuilder sb, PoolerConfig pooler, MemberConfig? self)
    {
        var p = pooler.Settings;
        sb.Append("  pooler  [").Append(pooler.Location).Append("]\n");
        sb.Append("    listen ");
        if (!pooler.Listen)
            sb.Append("off (only dest: pool services use it)");
        else
        {
            sb.Append(p.ListenAddr).Append(':');
            if (self is not null)
                sb.Append(Int(self.PoolerPort)).Append(" -> ").Append(self.Host).Append(':').Append(Int(self.PgPort));
            else
                sb.Append("<pooler_port of each member> -> that member's PostgreSQL");
        }
        sb.Append("  pool_mode ").Append(PoolerConfigReader.Name(p.PoolMode)).Append('\n');
        sb.Append("    auth_type ").Append(PoolerConfigReader.Name(p.AuthType))
            .Append("  auth_file ").Append(p.AuthFile ?? "none");
        if (p.AuthType == Pooling.PoolerAuthType.Hba)
            sb.Append("  auth_hba_file ").Append(p.AuthHbaFile ?? "none");
        if (p.AuthUser is not null)
            sb.Append("  auth_user ").Append(p.AuthUser).Append("  auth_query ").Append(p.AuthQuery);
        sb.Append('\n');
        sb.Append("    client_tls_sslmode ").Append(PoolerConfigReader.Name(p.ClientTlsSslMode));
        if (p.ClientTlsSslMode != Pooling.ClientTlsMode.Disable)
            sb.Append("  cert ").Append(p.ClientTlsCertFile).Append("  key ").Append(p.ClientTlsKeyFile).Append("  ca ").Append(p.ClientTlsCaFile);
        sb.Append("  admin_users ").AppendJoin(", ", p.AdminUsers).Append("  stats_users ").AppendJoin(", ", p.StatsUsers).Append('\n');
        sb.Append("    max_client_conn ").Append(Int(p.MaxClientConn)).Append("  default_pool_size ").Append(Int(p.DefaultPoolSize))
            .Append("  min_pool_size ").Append(Int(p.MinPoolSize)).Append("  reserve_pool_size ").Append(Int(p.ReservePoolSize))
            .Append("  reserve_pool_timeout ").Append(Seconds(p.ReservePoolTimeout))
            .Append("  max_db_connections ").Append(Int(p.MaxDbConnections)).Append("  max_user_connections ").Append(Int(p.MaxUserConnections)).Append('\n');
        sb.Append("    query_wait_timeout ").Append(Seconds(p.QueryWaitTimeout)).Append("  server_connect_timeout ").Append(Seconds(p.ServerConnectTimeout))
            .Append("  server_login_retry ").Append(Seconds(p.ServerLoginRetry)).Append("  server_lifetime ").Append(Seconds(p.ServerLifetime))
            .Append("  server_idle_timeout ").Append(Seconds(p.ServerIdleTimeout)).Append('\n');
        sb.Append("    client_idle_timeout ").Append(Seconds(p.ClientIdleTimeout)).Append("  client_login_timeout ").Append(Seconds(p.ClientLoginTimeout))
            .Append("  idle_transaction_timeout ").Append(Seconds(p.IdleTransactionTimeout)).Append('\n');
        sb.Append("    server_reset_query ").Append(p.ServerResetQuery.Length == 0 ? "none" : p.ServerResetQuery)
            .Append("  server_reset_query_always ").Append(p.ServerResetQueryAlways ? "1" : "0")
            .Append("  max_prepared_statements ").Append(Int(p.MaxPreparedStatements)).Append("  max_packet_size ").Append(Int(p.MaxPacketSize)).Append('\n');
        sb.Append("    ignore_startup_parameters ").AppendJoin(", ", p.IgnoreStartupParameters).Append('\n');
        foreach (var d in p.Databases)
        {
            sb.Append("    database ").Append(d.Name).Append(" =");
            sb.Append(" host=").Append(d.Host ?? "<the member's PostgreSQL>");
            if (d.Host is not null)
                sb.Append(" port=").Append(Int(d.Port));
            if (d.DbName is not null)
                sb.Append(" dbname=").Append(d.DbName);
            if (d.User is not null)
                sb.Append(" user=").Append(d.User);
            if (d.AuthUser is not null)
                sb.Append(" auth_user=").Append(d.AuthUser);
            if (d.PoolMode is { } mode)
                sb.Append(" pool_mode=").Append(PoolerConfigReader.Name(mode));
            if (d.PoolSize is { } size)
                sb.Append(" pool_size=").Append(Int(size));
            if (d.MinPoolSize is { } min)
                sb.Append(" min_pool_size=").Append(Int(min));
            if (d.ReservePool is { } reserve)
                sb.Append(" reserve_pool=").Append(Int(reserve));
            if (d.MaxDbConnections is { } limit)
                sb.Append(" max_db_connections=").Append(Int(limit));
            sb.Append('\n');
        }
        foreach (var u in p.Users)
        {
            sb.Append("    user ").Append(u.Name).Append(" =");
            if (u.PoolMode is { } mode)
                sb.Append(" pool_mode=").Append(PoolerConfigReader.Name(mode));
            if (u.MaxUserConnections is { } limit)
                sb.Append(" max_user_connections=").Append(Int(limit));
            sb.Append('\n');
        }
    }

    private static string Seconds(TimeSpan value) =>
        value <= TimeSpan.Zero ? "0" : value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);
}
