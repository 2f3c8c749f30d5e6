namespace PgGate.Services.Relay;

/// <summary>
/// The relay's event loops, shared by every service of the process. Sessions are spread over the loops
/// round-robin when they are created; a loop never hands a session to another.
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

    /// <summary>
    /// Whether this process relays with the epoll loops (PGGATE_RELAY=epoll, the default) or with .NET sockets
    /// (PGGATE_RELAY=sockets), for comparing both in one benchmark run.
    /// </summary>
    public static bool Enabled { get; } = Environment.GetEnvironmentVariable("PGGATE_RELAY") != "sockets";

    public RelaySession CreateSession(ServiceStats stats) =>
        new(_loops[(int)(Interlocked.Increment(ref _next) % (uint)_loops.Length)], stats);

    private static int DefaultLoopCount() =>
        int.TryParse(Environment.GetEnvironmentVariable("PGGATE_RELAY_LOOPS"), out var n) && n > 0 ? n : 1;
}
