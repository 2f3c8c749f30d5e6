using PgGate.Config;

namespace PgGate.Services;

/// <summary>
/// One member as a server of one service on this node: its live session count, its sessions (so they
/// can be shut down when it goes down), and its slow-start clock. It outlives views; a new
/// <see cref="ServerSet"/> refers to the same state object for the same member.
/// </summary>
public sealed class ServerState
{
    private readonly object _sessionsGate = new();
    private readonly HashSet<IServiceSession> _sessions = [];
    private int _active;
    private long _totalSessions;
    private long _failedConnects;

    public ServerState(string serviceName, MemberConfig member, int weight)
    {
        ServiceName = serviceName;
        Member = member;
        ConfiguredWeight = weight;
    }

    public string ServiceName { get; }
    public MemberConfig Member { get; }
    public string Name => Member.Name;

    /// <summary>The member's weight (its own, else the service's default-server weight).</summary>
    public int ConfiguredWeight { get; }

    /// <summary>Sessions relaying to this server now.</summary>
    public int Active => Volatile.Read(ref _active);

    public long TotalSessions => Interlocked.Read(ref _totalSessions);

    public long FailedConnects => Interlocked.Read(ref _failedConnects);

    /// <summary>When the server last came up after being down; slow start ramps from here. Null: no ramp.</summary>
    public DateTimeOffset? RampFrom { get; set; }

    /// <summary>Smooth weighted round-robin accumulator; touched only under the picker's lock.</summary>
    internal long RoundRobinCurrent { get; set; }

    /// <summary>Reserves a slot when below <paramref name="maxConn"/> (0 = unlimited).</summary>
    public bool TryReserve(int maxConn)
    {
        while (true)
        {
            var now = Volatile.Read(ref _active);
            if (maxConn > 0 && now >= maxConn)
                return false;
            if (Interlocked.CompareExchange(ref _active, now + 1, now) == now)
            {
                Interlocked.Increment(ref _totalSessions);
                return true;
            }
        }
    }

    public void Release() => Interlocked.Decrement(ref _active);

    public void CountFailedConnect() => Interlocked.Increment(ref _failedConnects);

    public void Attach(IServiceSession session)
    {
        lock (_sessionsGate)
            _sessions.Add(session);
    }

    public void Detach(IServiceSession session)
    {
        lock (_sessionsGate)
            _sessions.Remove(session);
    }

    /// <summary>Closes every session of this server (HAProxy's <c>shutdown-sessions</c>); returns how many.</summary>
    public int ShutdownSessions(string reason)
    {
        IServiceSession[] victims;
        lock (_sessionsGate)
        {
            victims = [.. _sessions];
            _sessions.Clear();
        }
        foreach (var s in victims)
            s.Shutdown(reason);
        return victims.Length;
    }

    /// <summary>Weight and maxconn scale with slow start: linearly from ~0 to full over <c>slowstart</c>.</summary>
    public double RampFactor(DateTimeOffset now, TimeSpan slowStart)
    {
        if (RampFrom is not { } from || slowStart <= TimeSpan.Zero)
            return 1.0;
        var elapsed = now - from;
        if (elapsed >= slowStart)
        {
            RampFrom = null;
            return 1.0;
        }
        return Math.Max(elapsed / slowStart, 0.0);
    }
}

/// <summary>A live client session of a service, as seen by the server it is attached to.</summary>
public interface IServiceSession
{
    /// <summary>Ends the session now (both connections closed); must not block.</summary>
    void Shutdown(string reason);
}
