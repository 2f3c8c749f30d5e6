namespace PgGate.Services.Relay;

/// <summary>
/// The relay's event loops, shared by every service of the process. A client is accepted, connected and relayed
/// by one loop, the one the kernel woke for it; a loop never hands a session to another.
/// </summary>
internal sealed class RelayEngine
{
    private static readonly Lazy<RelayEngine> SharedEngine = new(() => new RelayEngine(DefaultLoopCount()));
    private readonly RelayLoop[] _loops;
    private uint _next;

    public RelayEngine(int loops)
    {
        _loops = new RelayLoop[Math.Max(1, loops)];
        for (var i = 0; i < _loops.Length; i++)
            _loops[i] = new RelayLoop(i);
    }

    public static RelayEngine Shared => SharedEngine.Value;

    /// <summary>Starts accepting on <paramref name="socket"/> (bound and listening) in every loop.</summary>
    public RelayListener Listen(System.Net.Sockets.Socket socket, IAcceptHandler handler)
    {
        var listener = new RelayListener(_loops, socket, handler);
        listener.Start();
        return listener;
    }

    /// <summary>A session on the calling loop when called from one (a client accepted there), else on the next loop.</summary>
    public RelaySession CreateSession(ServiceStats stats)
    {
        foreach (var loop in _loops)
        {
            if (loop.IsLoopThread)
                return new RelaySession(loop, stats);
        }
        return new RelaySession(_loops[(int)(Interlocked.Increment(ref _next) % (uint)_loops.Length)], stats);
    }

    /// <summary>
    /// One loop per two CPUs: a loop moves tens of thousands of messages a second, and fewer loops see more events per
    /// wake-up, so they sleep less; PostgreSQL and the clients need the other CPUs. PGGATE_RELAY_LOOPS overrides it.
    /// </summary>
    private static int DefaultLoopCount() =>
        int.TryParse(Environment.GetEnvironmentVariable("PGGATE_RELAY_LOOPS"), out var n) && n > 0 ? n : Math.Max(1, Environment.ProcessorCount / 2);
}
