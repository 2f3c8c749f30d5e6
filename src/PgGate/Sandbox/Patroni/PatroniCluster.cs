using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PgGate.Cluster.Dcs;
using PgGate.Cluster.PatroniApi;
using PgGate.Config;

namespace PgGate.Sandbox.Patroni;

/// <summary>
/// A real Patroni cluster on this machine, configured as Pigsty configures Patroni: one etcd, and members
/// <c>&lt;name&gt;-1..n</c> each running Patroni (as the <c>postgres</c> OS user when this process is root), which runs
/// PostgreSQL. Member 1 bootstraps and leads; the others clone from it. For tests it offers the failures a node can
/// suffer (<see cref="KillPostgresAsync"/>, <see cref="StopPatroniAsync"/>, <see cref="KillNodeAsync"/>), a REST switchover,
/// and the leader as etcd holds it. Disposing stops every process by PID and deletes the base directory; a sandbox left
/// behind by a killed process is cleaned up by the next start.
/// </summary>
public sealed class PatroniCluster : IAsyncDisposable
{
    private readonly EventHandler _onProcessExit;
    private readonly HttpClient _rest;
    private readonly HttpClient _etcdHttp;
    private EtcdConnection? _etcdConnection;
    private int _disposed;

    private PatroniCluster(PatroniClusterOptions options, PatroniTools tools, OsUser osUser, string baseDirectory, IPAddress[] hosts, ILogger logger)
    {
        Options = options;
        Tools = tools;
        OsUser = osUser;
        BaseDirectory = baseDirectory;
        Logger = logger;
        var members = new PatroniMember[hosts.Length];
        for (var i = 0; i < members.Length; i++)
            members[i] = new PatroniMember(this, i, hosts[i], Path.Combine(baseDirectory, $"{options.Name}-{i + 1}"));
        Members = members;
        foreach (var member in members)
            member.TagsInternal = PatroniConfigFile.DefaultTags(this);
        Etcd = EtcdServer.CreateIn(
            new EtcdServerOptions
            {
                Name = "etcd-1",
                Host = options.EtcdHost,
                ClientPort = options.EtcdClientPort,
                PeerPort = options.EtcdPeerPort,
                StepTimeout = options.StepTimeout,
            },
            tools,
            Path.Combine(baseDirectory, "etcd"),
            logger);
        _rest = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(2) }) { Timeout = TimeSpan.FromSeconds(10) };
        _etcdHttp = EtcdConnection.CreateHttpClient(null, null, null, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5));
        _onProcessExit = (_, _) => EmergencyCleanup();
    }

    public PatroniClusterOptions Options { get; }

    /// <summary>Patroni's scope.</summary>
    public string Name => Options.Name;

    public PatroniTools Tools { get; }

    /// <summary>The OS user Patroni and PostgreSQL run as.</summary>
    public OsUser OsUser { get; }

    public string BaseDirectory { get; }

    public EtcdServer Etcd { get; }

    /// <summary>In order: <c>&lt;name&gt;-1</c> (the first leader), <c>-2</c>, <c>-3</c>...</summary>
    public IReadOnlyList<PatroniMember> Members { get; }

    /// <summary><c>/pg/&lt;name&gt;/leader</c>.</summary>
    public string LeaderKey => DcsKeys.Leader(Options.Namespace, Options.Name);

    /// <summary>Patroni's REST credentials for write endpoints, as PgGate's configuration carries them.</summary>
    public PatroniCheckConfig RestCredentials => new()
    {
        Username = Options.RestUsername,
        Password = new SecretSource { Value = Options.RestPassword },
    };

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    internal ILogger Logger { get; }

    /// <summary>Why a Patroni cluster cannot run here (Patroni, etcd or PostgreSQL missing), for a test's skip message;
    /// null when it can.</summary>
    public static string? SkipReason() => PatroniTools.MissingReason();

    /// <summary>
    /// Starts etcd, then member 1's Patroni (which bootstraps the cluster with initdb and takes the leader key), creates
    /// the users and databases, starts the other members (which clone from the leader) and returns once the leader holds
    /// the key, answers <c>/primary</c>, and every other member streams from it.
    /// </summary>
    public static async Task<PatroniCluster> StartAsync(PatroniClusterOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        options ??= new PatroniClusterOptions();
        logger ??= NullLogger.Instance;
        var (etcdAddress, hosts) = options.Validate();
        var tools = PatroniTools.Find();
        var osUser = OsUser.ForPostgres();
        var stopwatch = Stopwatch.StartNew();

        await Task.Run(() => LeftoverSweeper.Sweep(logger), cancellationToken).ConfigureAwait(false);
        foreach (var (address, port, what) in Endpoints(options, etcdAddress, hosts))
            await AddressGuard.EnsureFreeAsync(what, address, port, logger, cancellationToken).ConfigureAwait(false);

        var baseDirectory = CreateBaseDirectory(options, osUser);
        var cluster = new PatroniCluster(options, tools, osUser, baseDirectory, [.. hosts], logger);
        AppDomain.CurrentDomain.ProcessExit += cluster._onProcessExit;
        var others = new List<Task>();
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            await cluster.Etcd.StartAgainAsync(cancellationToken).ConfigureAwait(false);
            var first = cluster.Members[0];
            await cluster.StartPatroniAsync(first, cancellationToken).ConfigureAwait(false);

            // Once member 1 holds the initialize key, nobody else can bootstrap: the others may start (Patroni takes
            // seconds to start on a busy machine) and wait for the leader while it runs initdb.
            var initializeKey = DcsKeys.ClusterPrefix(options.Namespace, options.Name) + "/initialize";
            await cluster.WaitUntilAsync(
                async ct => await cluster.KeyAsync(initializeKey, ct).ConfigureAwait(false) is not null,
                $"{first.Name} to take {initializeKey} and bootstrap the cluster", first, cancellationToken).ConfigureAwait(false);
            for (var i = 1; i < cluster.Members.Count; i++)
                others.Add(cluster.StartPatroniAsync(cluster.Members[i], abandon.Token));

            await cluster.WaitForLeaderAsync(l => l == first.Name, options.StepTimeout, cancellationToken).ConfigureAwait(false);
            await cluster.WaitUntilAsync(
                async ct => await cluster.CheckAsync(first, "/primary", ct).ConfigureAwait(false) == HttpStatusCode.OK,
                $"{first.Name} to answer 200 on /primary after taking the leader key", first, cancellationToken).ConfigureAwait(false);
            var leaderElapsed = stopwatch.ElapsedMilliseconds;
            await first.RunSqlAsync(cluster.UsersAndDatabasesSql(), cancellationToken: cancellationToken).ConfigureAwait(false);
            await Task.WhenAll(others).ConfigureAwait(false);
            await cluster.WaitUntilHealthyAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            PatroniSandboxLog.ClusterStarted(logger, options.Name, stopwatch.ElapsedMilliseconds, first.Name, leaderElapsed,
                await cluster.PatroniVersionAsync(first, cancellationToken).ConfigureAwait(false), options.Timers.ToString(), baseDirectory);
        }
        catch
        {
            // Members still starting must have their processes recorded before disposal stops them.
            await abandon.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(others).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return cluster;
    }

    public PatroniMember Member(string name)
    {
        foreach (var member in Members)
        {
            if (member.Name == name)
                return member;
        }
        throw new ArgumentException($"Patroni cluster {Name} has no member {name}.", nameof(name));
    }

    /// <summary>A REST client for every member, with the cluster's credentials.</summary>
    public PatroniClient CreateClient()
    {
        var endpoints = new PatroniApiEndpoint[Members.Count];
        for (var i = 0; i < endpoints.Length; i++)
            endpoints[i] = new PatroniApiEndpoint(Members[i].Name, Members[i].RestUrl);
        return new PatroniClient(endpoints, RestCredentials);
    }

    /// <summary>Who holds the leader key in etcd right now; null when nobody does.</summary>
    public Task<string?> LeaderAsync(CancellationToken cancellationToken = default) => KeyAsync(LeaderKey, cancellationToken);

    /// <summary>A key's value in the cluster's etcd; null when it does not exist.</summary>
    public async Task<string?> KeyAsync(string key, CancellationToken cancellationToken = default)
    {
        try
        {
            _etcdConnection ??= await EtcdConnection.OpenAsync(_etcdHttp, new Uri(Etcd.ClientUrl), null, null, TimeSpan.FromSeconds(2), cancellationToken)
                .ConfigureAwait(false);
            return (await _etcdConnection.RangeAsync(key, cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (EtcdException e)
        {
            _etcdConnection = null;
            throw new SandboxException($"Cannot read {key}: {e.Message}", e);
        }
    }

    /// <summary>Polls etcd until the leader key satisfies <paramref name="condition"/> (null = no leader) and returns it.</summary>
    public async Task<string?> WaitForLeaderAsync(Func<string?, bool> condition, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        string? leader = null;
        await Waiting.UntilAsync(
            async ct =>
            {
                leader = await LeaderAsync(ct).ConfigureAwait(false);
                return condition(leader);
            },
            timeout,
            error => $"{LeaderKey} did not reach the expected holder within {timeout.TotalSeconds:0.#} s; it holds " +
                $"{leader ?? "nothing"}" + (error is null ? "." : $" (last error: {error}).") + PatroniLogTails(),
            cancellationToken).ConfigureAwait(false);
        return leader;
    }

    /// <summary>
    /// Waits until the cluster is whole again: the leader key is held by a member whose Patroni runs and which answers
    /// 200 on <c>/primary</c>, and every other member whose Patroni runs streams from it (and answers 200 on <c>/health</c>).
    /// Returns the leader's name.
    /// </summary>
    public async Task<string> WaitUntilHealthyAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var limit = timeout ?? Options.StepTimeout;
        string? leader = null;
        string? missing = null;
        PatroniMember? lagging = null;
        await Waiting.UntilAsync(
            async ct =>
            {
                leader = await LeaderAsync(ct).ConfigureAwait(false);
                var holder = leader is null ? null : Array.Find([.. Members], m => m.Name == leader);
                if (holder is null || !holder.IsPatroniRunning)
                {
                    missing = leader is null ? "no member holds the leader key" : $"the key names {leader}, whose Patroni is not running";
                    return false;
                }
                if (await CheckAsync(holder, "/primary", ct).ConfigureAwait(false) != HttpStatusCode.OK)
                {
                    missing = $"{leader} holds the key but does not answer 200 on /primary yet";
                    return false;
                }
                var streaming = await holder.RunSqlAsync(
                    "select application_name from pg_stat_replication where state = 'streaming'", cancellationToken: ct).ConfigureAwait(false);
                var names = streaming.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                foreach (var member in Members)
                {
                    if (member == holder || !member.IsPatroniRunning)
                        continue;
                    if (Array.IndexOf(names, member.Name) < 0)
                    {
                        missing = $"{member.Name} does not stream from {leader} yet";
                        lagging = member;
                        return false;
                    }
                    if (await CheckAsync(member, "/health", ct).ConfigureAwait(false) != HttpStatusCode.OK)
                    {
                        missing = $"{member.Name} streams but does not answer 200 on /health yet";
                        lagging = member;
                        return false;
                    }
                }
                // Patroni publishes each member's state and timeline in its member key once per HA loop, so /cluster can
                // still say "stopped", or an old timeline after a failover, for a member whose PostgreSQL already streams.
                var keys = new Dictionary<PatroniMember, (string? State, long? Timeline)>();
                foreach (var member in Members)
                {
                    if (member.IsPatroniRunning)
                        keys[member] = ReadMemberKey(await KeyAsync(DcsKeys.ClusterPrefix(Options.Namespace, Options.Name) + "/members/" + member.Name, ct).ConfigureAwait(false));
                }
                foreach (var (member, (state, timeline)) in keys)
                {
                    if (state is not ("running" or "streaming"))
                    {
                        missing = $"{member.Name}'s member key does not say running yet";
                        return false;
                    }
                    if (timeline is null || timeline != keys[holder].Timeline)
                    {
                        missing = $"{member.Name}'s member key is not on {leader}'s timeline yet";
                        return false;
                    }
                }
                return true;
            },
            limit,
            error => $"Patroni cluster {Name} did not become healthy within {limit.TotalSeconds:0} s: {missing ?? "unknown"}" +
                (error is null ? "." : $" (last error: {error}).") + PatroniLogTails() +
                (lagging is null ? "" : $"\nlast lines of {lagging.PostgresLogFile}:\n  " +
                    LogTail.Read(lagging.PostgresLogFile, 12).Replace("\n", "\n  ", StringComparison.Ordinal)),
            cancellationToken).ConfigureAwait(false);
        return leader!;
    }

    private static (string? State, long? Timeline) ReadMemberKey(string? document)
    {
        if (document is null)
            return (null, null);
        using var json = System.Text.Json.JsonDocument.Parse(document);
        var root = json.RootElement;
        var state = root.TryGetProperty("state", out var s) ? s.GetString() : null;
        long? timeline = root.TryGetProperty("timeline", out var t) && t.TryGetInt64(out var value) ? value : null;
        return (state, timeline);
    }

    /// <summary>Sends <c>OPTIONS &lt;path&gt;</c> to a member's REST API, as HAProxy's check does; null when it cannot be reached.</summary>
    public async Task<HttpStatusCode?> CheckAsync(PatroniMember member, string path, CancellationToken cancellationToken = default)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Options, new Uri(member.RestUrl, path));
            using var response = await _rest.SendAsync(request, cancellationToken).ConfigureAwait(false);
            return response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>SIGKILLs the member's postmaster while Patroni stays up: a PostgreSQL crash. Patroni notices on its next
    /// loop and starts PostgreSQL again (a leader keeps its key if it is back within <c>primary_start_timeout</c>).
    /// Returns the PID killed.</summary>
    public async Task<int> KillPostgresAsync(PatroniMember member)
    {
        await member.Lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            var pid = member.PostmasterPid ?? throw new SandboxException($"Cannot kill {member.Name}'s PostgreSQL: it is not running.");
            var stopwatch = Stopwatch.StartNew();
            _ = NativeMethods.Kill(pid, NativeMethods.SigKill);
            if (!await Task.Run(() => ProcessReaper.WaitUntilDead(pid, TimeSpan.FromSeconds(10))).ConfigureAwait(false))
                throw new SandboxException($"Sent SIGKILL to {member.Name}'s postmaster (PID {pid}), but it is still alive after 10 s.");

            // Patroni restarts PostgreSQL on its next loop; a zombie's socket lock would keep the new server off the socket.
            SocketLockFile.RemoveStale(member.SocketDirectory, member.Port, pid);
            PatroniSandboxLog.MemberOperation(Logger, "killed PostgreSQL of", member.Name, $"postmaster PID {pid}, Patroni alive", stopwatch.ElapsedMilliseconds);
            return pid;
        }
        finally
        {
            member.Lifecycle.Release();
        }
    }

    /// <summary>SIGTERMs Patroni, which stops PostgreSQL and, on the leader, releases the key at once (an orderly node
    /// shutdown). Returns once Patroni and PostgreSQL are gone.</summary>
    public async Task StopPatroniAsync(PatroniMember member, CancellationToken cancellationToken = default)
    {
        await member.Lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (member.Process is not { HasExited: false } process)
                return;
            var stopwatch = Stopwatch.StartNew();
            var grace = Options.StepTimeout;
            if (!await process.StopAsync(grace).ConfigureAwait(false))
                PatroniSandboxLog.StopEscalated(Logger, member.Name, (int)grace.TotalSeconds);
            await EndLeftoversAsync(member, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            PatroniSandboxLog.MemberOperation(Logger, "stopped Patroni of", member.Name, $"PID {process.Pid}, SIGTERM", stopwatch.ElapsedMilliseconds);
        }
        finally
        {
            member.Lifecycle.Release();
        }
    }

    /// <summary>SIGKILLs Patroni and every PostgreSQL process of the member at once: the whole node dies. Nobody releases
    /// its leader key; etcd deletes it when its lease expires, <c>ttl</c> seconds after Patroni last refreshed it.</summary>
    public async Task KillNodeAsync(PatroniMember member)
    {
        await member.Lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            var stopwatch = Stopwatch.StartNew();
            var patroni = member.Process is { HasExited: false } process ? process.Pid : (int?)null;
            member.Process?.Signal(NativeMethods.SigKill);
            foreach (var pid in ProcFs.ProcessesUsing(member.MemberDirectory))
                _ = NativeMethods.Kill(pid, NativeMethods.SigKill);
            if (member.Process is not null && !await member.Process.WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false))
                throw new SandboxException($"Sent SIGKILL to {member.Name}'s Patroni (PID {patroni}), but it is still alive after 10 s.");
            await EndLeftoversAsync(member, TimeSpan.Zero).ConfigureAwait(false);
            PatroniSandboxLog.MemberOperation(Logger, "killed node", member.Name, $"Patroni PID {patroni?.ToString(CultureInfo.InvariantCulture) ?? "none"} and PostgreSQL, SIGKILL",
                stopwatch.ElapsedMilliseconds);
        }
        finally
        {
            member.Lifecycle.Release();
        }
    }

    /// <summary>Starts the member's Patroni again (no-op when it runs) and returns once its REST API answers. Patroni then
    /// starts PostgreSQL and rejoins it as a replica (pg_rewind when it was the old leader); wait for that with
    /// <see cref="WaitUntilHealthyAsync"/>.</summary>
    public async Task StartMemberAsync(PatroniMember member, CancellationToken cancellationToken = default)
    {
        await member.Lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (member.IsPatroniRunning)
                return;
            var stopwatch = Stopwatch.StartNew();
            await EndLeftoversAsync(member, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            await StartPatroniAsync(member, cancellationToken).ConfigureAwait(false);
            PatroniSandboxLog.MemberOperation(Logger, "started", member.Name, $"Patroni PID {member.PatroniPid}", stopwatch.ElapsedMilliseconds);
        }
        finally
        {
            member.Lifecycle.Release();
        }
    }

    /// <summary>A switchover through Patroni's REST API (<c>POST /switchover</c> from the current leader to
    /// <paramref name="to"/>, or to the replica Patroni picks), returning the new leader once etcd names it.</summary>
    public async Task<string> SwitchoverAsync(string? to = null, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        var leader = await LeaderAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new SandboxException($"Cannot switch over {Name}: no member holds {LeaderKey}.");
        using var client = CreateClient();
        string outcome;
        try
        {
            outcome = (await client.SwitchoverAsync(leader, to, cancellationToken: cancellationToken).ConfigureAwait(false)).Message;
        }
        catch (PatroniApiException e) when (e.PatroniMessage?.Contains("status unknown", StringComparison.Ordinal) == true)
        {
            // Patroni stopped polling for the outcome (2 × max(10, loop_wait) s, which a loaded machine can exceed);
            // the switchover may still complete, and etcd will say so.
            outcome = e.PatroniMessage;
        }
        catch (PatroniApiException e)
        {
            throw new SandboxException($"Switchover of {Name} from {leader}{(to is null ? "" : " to " + to)} failed: {e.Message}" + PatroniLogTails(), e);
        }
        var newLeader = await WaitForLeaderAsync(l => l is not null && l != leader && (to is null || l == to), Options.StepTimeout, cancellationToken)
            .ConfigureAwait(false);
        PatroniSandboxLog.MemberOperation(Logger, "switched over from", leader, $"to {newLeader}: {outcome}", stopwatch.ElapsedMilliseconds);
        return newLeader!;
    }

    /// <summary>Changes the member's Patroni tags (e.g. <c>noloadbalance: true</c>), reloads Patroni (SIGHUP) and waits until
    /// its REST API reports them.</summary>
    public async Task SetTagsAsync(PatroniMember member, IReadOnlyDictionary<string, object?> tags, CancellationToken cancellationToken = default)
    {
        await member.Lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var merged = new Dictionary<string, object?>(member.TagsInternal, StringComparer.Ordinal);
            foreach (var (name, value) in tags)
                merged[name] = value;
            member.TagsInternal = merged;
            WriteConfig(member);
            member.Process?.Signal(PatroniNative.SigHup);
            await WaitUntilAsync(
                async ct =>
                {
                    var body = await _rest.GetStringAsync(new Uri(member.RestUrl, "/patroni"), ct).ConfigureAwait(false);
                    using var document = System.Text.Json.JsonDocument.Parse(body);
                    var reported = document.RootElement.TryGetProperty("tags", out var t) ? t : default;
                    foreach (var (name, value) in tags)
                    {
                        // Patroni leaves false booleans out of the tags it reports.
                        var v = default(System.Text.Json.JsonElement);
                        var present = reported.ValueKind == System.Text.Json.JsonValueKind.Object && reported.TryGetProperty(name, out v);
                        var expected = value is false or null ? !present : present && string.Equals(
                            v.ToString(), Convert.ToString(value, CultureInfo.InvariantCulture), StringComparison.OrdinalIgnoreCase);
                        if (!expected)
                            return false;
                    }
                    return true;
                },
                $"{member.Name} to report tags {string.Join(", ", tags.Select(t => $"{t.Key}={t.Value}"))}",
                member,
                cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            member.Lifecycle.Release();
        }
    }

    /// <summary>Turns Patroni's <c>synchronous_mode</c> on or off (<c>PATCH /config</c>) and waits until <c>GET /cluster</c>
    /// shows a sync standby (on) or none (off) and every member's <c>/sync</c> check agrees.</summary>
    public async Task SetSynchronousModeAsync(bool enabled, CancellationToken cancellationToken = default)
    {
        var leader = await LeaderAsync(cancellationToken).ConfigureAwait(false) ?? throw new SandboxException($"{Name} has no leader.");
        var member = Member(leader);
        using (var request = new HttpRequestMessage(HttpMethod.Patch, new Uri(member.RestUrl, "/config")))
        {
            request.Content = new StringContent(enabled ? "{\"synchronous_mode\": true}" : "{\"synchronous_mode\": false}", Encoding.UTF8, "application/json");
            request.Headers.Authorization = new AuthenticationHeaderValue(
                "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Options.RestUsername + ":" + Options.RestPassword)));
            using var response = await _rest.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new SandboxException($"Patroni on {member.Name} refused PATCH /config synchronous_mode={enabled}: HTTP " +
                    $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
            }
        }
        // The DCS says it first; each member's checks follow on its next HA loop (up to loop_wait later).
        using var client = CreateClient();
        await WaitUntilAsync(
            async ct =>
            {
                var cluster = await client.GetClusterAsync(ct).ConfigureAwait(false);
                var named = cluster.Members.Where(m => m.IsSyncStandby).Select(m => m.Name).ToList();
                if ((named.Count > 0) != enabled)
                    return false;
                foreach (var m in Members)
                {
                    var passes = await CheckAsync(m, "/sync", ct).ConfigureAwait(false) == HttpStatusCode.OK;
                    if (passes != named.Contains(m.Name))
                        return false;
                }
                return true;
            },
            enabled ? "Patroni to name a synchronous standby that passes /sync" : "Patroni to drop the synchronous standby",
            member,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops every member (SIGTERM to Patroni, SIGKILL after 20 s) and etcd, ends anything left in the base
    /// directory, and deletes it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        AppDomain.CurrentDomain.ProcessExit -= _onProcessExit;
        var stopwatch = Stopwatch.StartNew();
        var stops = new List<Task>();
        foreach (var member in Members)
        {
            if (member.Process is { } process)
            {
                stops.Add(Task.Run(async () =>
                {
                    if (!process.HasExited && !await process.StopAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false))
                        PatroniSandboxLog.StopEscalated(Logger, member.Name, 20);
                    await process.DisposeAsync().ConfigureAwait(false);
                }));
            }
        }
        try
        {
            await Task.WhenAll(stops).ConfigureAwait(false);
        }
        catch (SandboxException)
        {
            // The reaper below ends whatever survived.
        }

        await Etcd.DisposeAsync().ConfigureAwait(false);
        _rest.Dispose();
        _etcdHttp.Dispose();
        await Task.Run(() =>
        {
            ProcessReaper.EndAllUsing(BaseDirectory, TimeSpan.FromSeconds(2));
            foreach (var member in Members)
                PostmasterPidFile.RemoveStale(member.DataDirectory);
            LeftoverSweeper.DeleteDirectory(BaseDirectory, Logger);
        }).ConfigureAwait(false);
        PatroniSandboxLog.ClusterDisposed(Logger, Name, stopwatch.ElapsedMilliseconds);
    }

    internal void EmergencyCleanup()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        ProcessReaper.EndAllUsing(BaseDirectory, TimeSpan.FromSeconds(3));
        foreach (var member in Members)
            PostmasterPidFile.RemoveStale(member.DataDirectory);
        LeftoverSweeper.DeleteDirectory(BaseDirectory, Logger);
    }

    internal string UsersAndDatabasesSql()
    {
        var sql = new StringBuilder();
        foreach (var user in Options.Users)
        {
            var name = Quoting.SqlIdentifier(user.Name);
            sql.Append(CultureInfo.InvariantCulture,
                $"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {Quoting.SqlLiteral(user.Name)}) THEN CREATE ROLE {name}; END IF; END $$;\n");
            sql.Append(CultureInfo.InvariantCulture, $"ALTER ROLE {name} WITH LOGIN");
            sql.Append(user.Superuser ? " SUPERUSER" : "");
            sql.Append(user.Replication ? " REPLICATION" : "");
            sql.Append(CultureInfo.InvariantCulture, $" PASSWORD {Quoting.SqlLiteral(user.Password)};\n");
            foreach (var role in user.MemberOf)
                sql.Append(CultureInfo.InvariantCulture, $"GRANT {Quoting.SqlIdentifier(role)} TO {name};\n");
        }
        foreach (var database in Options.Databases)
            sql.Append(CultureInfo.InvariantCulture, $"CREATE DATABASE {Quoting.SqlIdentifier(database.Name)} OWNER {Quoting.SqlIdentifier(database.Owner)};\n");
        return sql.ToString();
    }

    private async Task StartPatroniAsync(PatroniMember member, CancellationToken cancellationToken)
    {
        await AddressGuard.EnsureFreeAsync($"{member.Name} (PostgreSQL)", member.Address, Options.PostgresPort, Logger, cancellationToken)
            .ConfigureAwait(false);
        await AddressGuard.EnsureFreeAsync($"{member.Name} (Patroni REST API)", member.Address, Options.RestPort, Logger, cancellationToken)
            .ConfigureAwait(false);
        WriteConfig(member);
        if (member.Process is not null)
            await member.Process.DisposeAsync().ConfigureAwait(false);
        member.Process = DaemonProcess.Start(
            $"Patroni {member.Name}",
            Tools.Patroni,
            [member.ConfigFile],
            member.MemberDirectory,
            member.PatroniLogFile,
            OsUser,
            PatroniEnvironment(member));
        PatroniSandboxLog.PatroniStarted(Logger, member.Name, member.Process.Pid);
        await WaitUntilAsync(
            async ct =>
            {
                using var response = await _rest.GetAsync(new Uri(member.RestUrl, "/patroni"), ct).ConfigureAwait(false);
                return true;
            },
            $"{member.Name}'s Patroni REST API to answer on {member.RestUrl}",
            member,
            cancellationToken).ConfigureAwait(false);
    }

    private void WriteConfig(PatroniMember member)
    {
        File.WriteAllText(member.ConfigFile, PatroniConfigFile.Render(this, member));
        FileModes.RestrictFile(member.ConfigFile);
        OsUser.TakeOwnership(member.ConfigFile);
    }

    private static Dictionary<string, string?> PatroniEnvironment(PatroniMember member)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var key in Environment.GetEnvironmentVariables().Keys)
        {
            // The caller's PG* and PATRONI_* variables must not redirect Patroni or the tools it runs.
            if (key is string name && (name.StartsWith("PG", StringComparison.Ordinal) || name.StartsWith("PATRONI_", StringComparison.Ordinal)))
                environment[name] = null;
        }
        environment["HOME"] = member.MemberDirectory;
        environment["USER"] = OsUser.PostgresUserName;
        environment["LOGNAME"] = OsUser.PostgresUserName;
        environment["LC_ALL"] = "C.UTF-8";
        environment["LANG"] = "C.UTF-8";
        environment["PYTHONUNBUFFERED"] = "1";
        return environment;
    }

    // Waits for a member condition; a Patroni that exits meanwhile fails at once with its log's tail.
    private async Task WaitUntilAsync(Func<CancellationToken, Task<bool>> condition, string what, PatroniMember member, CancellationToken cancellationToken)
    {
        try
        {
            await WaitUntilCoreAsync(condition, what, member, cancellationToken).ConfigureAwait(false);
        }
        catch (PatroniExitedException e)
        {
            throw new SandboxException(e.Message);
        }
    }

    private Task WaitUntilCoreAsync(Func<CancellationToken, Task<bool>> condition, string what, PatroniMember member, CancellationToken cancellationToken) =>
        Waiting.UntilAsync(
            async ct =>
            {
                if (member.Process is { HasExited: true } process)
                {
                    throw new PatroniExitedException(
                        $"{member.Name}'s Patroni exited with code {process.ExitCode} while waiting for {what}." + LogTailNote(member));
                }
                try
                {
                    return await condition(ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException or PatroniApiException
                    || (e is OperationCanceledException && !ct.IsCancellationRequested))
                {
                    throw new SandboxException(e.Message);
                }
            },
            Options.StepTimeout,
            error => $"Timed out after {Options.StepTimeout.TotalSeconds:0} s waiting for {what}" + (error is null ? "." : $" (last error: {error}).") +
                LogTailNote(member),
            cancellationToken);

    private async Task<string> PatroniVersionAsync(PatroniMember member, CancellationToken cancellationToken)
    {
        var body = await _rest.GetStringAsync(new Uri(member.RestUrl, "/patroni"), cancellationToken).ConfigureAwait(false);
        using var document = System.Text.Json.JsonDocument.Parse(body);
        return document.RootElement.TryGetProperty("patroni", out var p) && p.TryGetProperty("version", out var v) ? v.GetString() ?? "?" : "?";
    }

    // After Patroni is gone: wait for PostgreSQL processes it left (a killed postmaster's backends notice and exit), then
    // drop a stale postmaster.pid and socket lock whose PID may still be a zombie that Patroni and PostgreSQL would mistake
    // for a running server.
    private static Task EndLeftoversAsync(PatroniMember member, TimeSpan grace) => Task.Run(() =>
    {
        if (!ProcessReaper.AwaitOrphans(member.MemberDirectory, grace))
        {
            throw new SandboxException($"Processes of {member.Name} still run after SIGKILL: " +
                string.Join(", ", ProcFs.ProcessesUsing(member.MemberDirectory)) + ".");
        }
        if (Directory.Exists(member.DataDirectory))
            PostmasterPidFile.RemoveStale(member.DataDirectory);
        SocketLockFile.RemoveStale(member.SocketDirectory, member.Port);
    });

    private string PatroniLogTails()
    {
        var text = new StringBuilder();
        foreach (var member in Members)
            text.Append(LogTailNote(member, 6));
        return text.ToString();
    }

    private static string LogTailNote(PatroniMember member, int lines = 15) =>
        $"\nlast lines of {member.PatroniLogFile}:\n  " + LogTail.Read(member.PatroniLogFile, lines).Replace("\n", "\n  ", StringComparison.Ordinal);

    private static IEnumerable<(IPAddress Address, int Port, string What)> Endpoints(PatroniClusterOptions options, IPAddress etcd, List<IPAddress> hosts)
    {
        yield return (etcd, options.EtcdClientPort, "etcd (client)");
        yield return (etcd, options.EtcdPeerPort, "etcd (peer)");
        for (var i = 0; i < hosts.Count; i++)
        {
            yield return (hosts[i], options.PostgresPort, $"{options.Name}-{i + 1} (PostgreSQL)");
            yield return (hosts[i], options.RestPort, $"{options.Name}-{i + 1} (Patroni REST API)");
        }
    }

    private static string CreateBaseDirectory(PatroniClusterOptions options, OsUser osUser)
    {
        string directory;
        if (options.BaseDirectory is null)
        {
            directory = SandboxDirectories.CreateUnique("patroni-" + options.Name);
        }
        else
        {
            directory = Path.GetFullPath(options.BaseDirectory);
            if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
            {
                throw new SandboxException(
                    $"BaseDirectory {directory} is not empty. Disposing a sandbox deletes its base directory, so give an absent or " +
                    "empty directory, or leave BaseDirectory null for a fresh one under /dev/shm or /tmp.");
            }
            Directory.CreateDirectory(directory);
        }

        // PostgreSQL reports its working directory with links resolved; compare like with like.
        directory = NativeMethods.ResolvePath(directory);
        SandboxOwner.Current.WriteTo(directory);
        var longest = Path.Combine(directory, $"{options.Name}-{options.Hosts.Count}", $".s.PGSQL.{options.PostgresPort}");
        if (longest.Length > LocalClusterOptions.MaxUnixSocketPath)
        {
            Directory.Delete(directory, recursive: true);
            throw new SandboxException(
                $"BaseDirectory {directory} is too long for unix sockets ({longest} has {longest.Length} characters, the limit is " +
                $"{LocalClusterOptions.MaxUnixSocketPath}). Choose a shorter BaseDirectory or leave it null.");
        }

        FileModes.RestrictDirectory(directory);
        osUser.TakeOwnership(directory);
        for (var i = 1; i <= options.Hosts.Count; i++)
        {
            var memberDirectory = Path.Combine(directory, $"{options.Name}-{i}");
            Directory.CreateDirectory(memberDirectory);
            FileModes.RestrictDirectory(memberDirectory);
            osUser.TakeOwnership(memberDirectory);
        }
        return directory;
    }

    /// <summary>Patroni died while the sandbox waited for it: no point in waiting any longer.</summary>
    private sealed class PatroniExitedException(string message) : Exception(message);
}
