using System.Net.Sockets;

namespace PgGate.Services.Relay;

/// <summary>What a service does with the clients its listening socket accepts (on a relay loop thread).</summary>
internal interface IAcceptHandler
{
    /// <summary>A new client, as a non-blocking socket descriptor the handler now owns. Must not block.</summary>
    void OnAccepted(int fd);

    /// <summary>accept(2) failed for lack of descriptors or memory (an errno); the listener pauses briefly.</summary>
    void OnAcceptPressure(int errno);
}

/// <summary>
/// A listening socket watched by every relay loop (EPOLLEXCLUSIVE: each new client wakes one loop, which accepts it,
/// connects it and relays it without handing it to another thread). Stop with <see cref="StopAsync"/> before closing
/// the socket, so no loop is left polling a descriptor number that may be reused.
/// </summary>
internal sealed class RelayListener : ILoopWork
{
    /// <summary>How long a listener rests after accept(2) ran out of descriptors or memory.</summary>
    public const int PauseMilliseconds = 100;

    private readonly RelayLoop[] _loops;
    private readonly Socket _socket;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _loopsStillWatching;

    public RelayListener(RelayLoop[] loops, Socket socket, IAcceptHandler handler)
    {
        _loops = loops;
        _socket = socket;
        Handler = handler;
        // The socket stays open (and its number taken) until StopAsync says no loop watches it any more.
        Fd = (int)socket.SafeHandle.DangerousGetHandle();
        socket.Blocking = false;
    }

    public int Fd { get; }

    public IAcceptHandler Handler { get; }

    public void Start()
    {
        foreach (var loop in _loops)
            loop.Post(this, RelayCommand.Listen);
    }

    /// <summary>Completes when no loop watches the socket any more; then it may be closed.</summary>
    public Task StopAsync()
    {
        _loopsStillWatching = _loops.Length;
        foreach (var loop in _loops)
            loop.Post(this, RelayCommand.Unlisten);
        return _stopped.Task;
    }

    public void Execute(RelayLoop loop, RelayCommand command)
    {
        if (command == RelayCommand.Listen)
        {
            loop.AddListener(this);
        }
        else if (command == RelayCommand.Unlisten)
        {
            loop.RemoveListener(this);
            if (Interlocked.Decrement(ref _loopsStillWatching) == 0)
                _stopped.TrySetResult();
        }
    }
}
