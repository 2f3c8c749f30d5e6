using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using static PgGate.Services.Relay.LinuxNative;

namespace PgGate.Services.Relay;

/// <summary>
/// One event-loop thread: an edge-triggered epoll set holding both sockets of its sessions, the listening
/// sockets of the services (accepting where HAProxy does: on the thread that then connects and relays), the
/// connects in flight with their deadlines, and one scratch buffer every session shares, because a relay only
/// needs a buffer of its own when a receiver is slower than its sender (see <see cref="RelaySession"/>).
/// Sessions and listeners are touched only on this thread; other threads hand work over through a queue.
/// Accepted clients and the continuations of sessions' awaiters run after each batch of events, never in the
/// middle of one.
/// </summary>
internal sealed unsafe class RelayLoop
{
    /// <summary>Bytes read per receive. Shared by every session of the loop, so it costs nothing per session.</summary>
    /// <remarks>
    /// 64 KiB: bulk results (COPY, large SELECTs) move in few system calls; 16 KiB cost more CPU per byte and 256 KiB
    /// no less (docs/benchmarks.md). Being shared, its size costs nothing per session.
    /// </remarks>
    public const int ScratchSize = 64 * 1024;

    private const int MaxEvents = 256;
    private const ulong WakeToken = ulong.MaxValue;
    private const ulong ListenerTokenBit = 1UL << 63;

    /// <summary>Accepts per listener per wake-up, so a connection storm on one port cannot starve relaying.</summary>
    private const int AcceptBudget = 64;

    private readonly int _epoll;
    private readonly int _wakeFd;
    private readonly byte* _events;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<(ILoopWork Work, RelayCommand Command)> _commands = new();
    private readonly List<RelaySession> _connecting = [];
    private readonly List<RelaySession> _completions = [];
    private readonly List<ListenerEntry?> _listeners = [];
    private readonly List<(RelayListener Listener, int Fd)> _accepted = [];
    private RelaySession?[] _slots = new RelaySession?[64];
    private uint[] _generations = new uint[64];
    private int[] _freeSlots = new int[64];
    private int _freeCount;
    private int _slotsUsed;
    private int _pausedListeners;
    private int _wakeRequested;

    public RelayLoop(int index)
    {
        _epoll = EpollCreate1(EPOLL_CLOEXEC);
        if (_epoll < 0)
            throw new InvalidOperationException($"epoll_create1 failed: {Marshal.GetPInvokeErrorMessage(Errno())}");
        _wakeFd = EventFd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (_wakeFd < 0 || AddToEpoll(_epoll, _wakeFd, EPOLLIN, WakeToken) < 0)
            throw new InvalidOperationException($"eventfd failed: {Marshal.GetPInvokeErrorMessage(Errno())}");
        _events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * EpollEventSize));
        Scratch = (byte*)NativeMemory.Alloc(ScratchSize);
        _thread = new Thread(Run) { IsBackground = true, Name = "pggate relay " + index };
        _thread.UnsafeStart();
    }

    /// <summary>Receive buffer shared by the loop's sessions; valid only on the loop thread, within one pump.</summary>
    public byte* Scratch { get; }

    public int Epoll => _epoll;

    public bool IsLoopThread => Environment.CurrentManagedThreadId == _thread.ManagedThreadId;

    /// <summary>Runs <paramref name="command"/> for <paramref name="work"/> on the loop thread (now, if already there).</summary>
    public void Execute(ILoopWork work, RelayCommand command)
    {
        if (IsLoopThread)
            work.Execute(this, command);
        else
            Post(work, command);
    }

    /// <summary>Queues <paramref name="command"/> for the loop thread, even from it (e.g. from a cancellation callback).</summary>
    public void Post(ILoopWork work, RelayCommand command)
    {
        _commands.Enqueue((work, command));
        if (Interlocked.Exchange(ref _wakeRequested, 1) == 0)
        {
            ulong one = 1;
            _ = Write(_wakeFd, &one, sizeof(ulong));
        }
    }

    /// <summary>Gives the session a slot; its epoll tokens carry the slot and a generation so stale events are ignored.</summary>
    public ulong AllocateSlot(RelaySession session)
    {
        int slot;
        if (_freeCount > 0)
        {
            slot = _freeSlots[--_freeCount];
        }
        else
        {
            if (_slotsUsed == _slots.Length)
            {
                Array.Resize(ref _slots, _slots.Length * 2);
                Array.Resize(ref _generations, _generations.Length * 2);
                Array.Resize(ref _freeSlots, _freeSlots.Length * 2);
            }
            slot = _slotsUsed++;
        }
        _slots[slot] = session;
        return ((ulong)(uint)slot << 32) | ((ulong)(_generations[slot] & 0x7FFF_FFFF) << 1);
    }

    public void FreeSlot(ulong token)
    {
        var slot = (int)(token >> 32);
        _slots[slot] = null;
        _generations[slot]++;
        _freeSlots[_freeCount++] = slot;
    }

    public void AddConnecting(RelaySession session) => _connecting.Add(session);

    public void RemoveConnecting(RelaySession session) => _connecting.Remove(session);

    /// <summary>Completes the session's awaiter once the current batch is done.</summary>
    public void CompleteLater(RelaySession session) => _completions.Add(session);

    /// <summary>Starts watching a listening socket (on the loop thread).</summary>
    public void AddListener(RelayListener listener)
    {
        var entry = new ListenerEntry(listener);
        var index = _listeners.IndexOf(null);
        if (index < 0)
        {
            index = _listeners.Count;
            _listeners.Add(entry);
        }
        else
        {
            _listeners[index] = entry;
        }
        entry.Index = index;
        if (!Watch(entry))
            Pause(entry, Errno());
    }

    /// <summary>Stops watching a listening socket (on the loop thread); the caller closes it afterwards.</summary>
    public void RemoveListener(RelayListener listener)
    {
        for (var i = 0; i < _listeners.Count; i++)
        {
            if (_listeners[i] is not { } entry || entry.Listener != listener)
                continue;
            if (entry.ResumeAt == 0)
                _ = EpollCtl(_epoll, EPOLL_CTL_DEL, listener.Fd, null);
            else
                _pausedListeners--;
            _listeners[i] = null;
        }
        // Clients accepted in this batch but not yet handed over still get served: their sockets are theirs, not the listener's.
    }

    private bool Watch(ListenerEntry entry) =>
        AddToEpoll(_epoll, entry.Listener.Fd, EPOLLIN | EPOLLEXCLUSIVE, ListenerTokenBit | (uint)entry.Index) == 0;

    /// <summary>Takes a listener out of the epoll set for a while: out of descriptors or memory, accept would fail again at once.</summary>
    private void Pause(ListenerEntry entry, int errno)
    {
        _ = EpollCtl(_epoll, EPOLL_CTL_DEL, entry.Listener.Fd, null);
        entry.ResumeAt = Environment.TickCount64 + RelayListener.PauseMilliseconds;
        _pausedListeners++;
        entry.Listener.Handler.OnAcceptPressure(errno);
    }

    private void Run()
    {
        while (true)
        {
            var n = EpollWait(_epoll, _events, MaxEvents, WaitTimeout());
            if (n < 0)
            {
                var errno = Errno();
                if (errno == EINTR)
                    continue;
                Environment.FailFast($"PgGate relay loop: epoll_wait failed: {Marshal.GetPInvokeErrorMessage(errno)}");
            }
            for (var i = 0; i < n; i++)
            {
                var data = DataAt(_events, i);
                if (data == WakeToken)
                {
                    ulong value;
                    _ = Read(_wakeFd, &value, sizeof(ulong));
                    continue;
                }
                if ((data & ListenerTokenBit) != 0)
                {
                    if (_listeners[(int)(uint)data] is { ResumeAt: 0 } entry)
                        Accept(entry);
                    continue;
                }
                var slot = (int)(data >> 32);
                if (_slots[slot] is { } session && ((_generations[slot] & 0x7FFF_FFFF) << 1) == (uint)(data & 0xFFFF_FFFE))
                    session.OnEvents(EventsAt(_events, i), (data & 1) != 0);
            }
            RunCommands();
            if (_connecting.Count > 0)
                ExpireConnects();
            if (_pausedListeners > 0)
                ResumeListeners();
            HandAccepted();
            RunCompletions();
        }
    }

    private void Accept(ListenerEntry entry)
    {
        for (var i = 0; i < AcceptBudget; i++)
        {
            var fd = Accept4(entry.Listener.Fd, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0)
            {
                _accepted.Add((entry.Listener, fd));
                continue;
            }
            var errno = Errno();
            if (errno == EAGAIN)
                return;
            if (errno is EINTR or ECONNABORTED or EPROTO)
                continue;
            // EMFILE, ENFILE, ENOBUFS, ENOMEM: the socket stays readable, so leave it alone for a moment instead of spinning.
            Pause(entry, errno);
            return;
        }
    }

    private void HandAccepted()
    {
        // Runs each client's routing and connect on this thread; what it completes is run in this same pass.
        for (var i = 0; i < _accepted.Count; i++)
            _accepted[i].Listener.Handler.OnAccepted(_accepted[i].Fd);
        _accepted.Clear();
    }

    private void RunCommands()
    {
        if (Volatile.Read(ref _wakeRequested) == 0)
            return;
        Interlocked.Exchange(ref _wakeRequested, 0);
        while (_commands.TryDequeue(out var item))
            item.Work.Execute(this, item.Command);
    }

    private int WaitTimeout()
    {
        if (_completions.Count > 0 || _accepted.Count > 0 || Volatile.Read(ref _wakeRequested) != 0)
            return 0;
        if (_connecting.Count == 0 && _pausedListeners == 0)
            return -1;
        var earliest = long.MaxValue;
        foreach (var s in _connecting)
            earliest = Math.Min(earliest, s.ConnectDeadline);
        foreach (var l in _listeners)
        {
            if (l is { ResumeAt: > 0 })
                earliest = Math.Min(earliest, l.ResumeAt);
        }
        return (int)Math.Clamp(earliest - Environment.TickCount64, 0, int.MaxValue);
    }

    private void ExpireConnects()
    {
        var now = Environment.TickCount64;
        for (var i = _connecting.Count - 1; i >= 0; i--)
        {
            if (i < _connecting.Count && _connecting[i].ConnectDeadline <= now)
                _connecting[i].ConnectTimedOut();
        }
    }

    private void ResumeListeners()
    {
        var now = Environment.TickCount64;
        foreach (var l in _listeners)
        {
            if (l is not { ResumeAt: > 0 } || l.ResumeAt > now)
                continue;
            l.ResumeAt = 0;
            _pausedListeners--;
            if (!Watch(l))
                Pause(l, Errno());
        }
    }

    private void RunCompletions()
    {
        // Continuations may start, connect or end sessions; whatever they complete is run in this same pass.
        for (var i = 0; i < _completions.Count; i++)
            _completions[i].RunCompletion();
        _completions.Clear();
    }
}

/// <summary>A listening socket as one loop watches it: its token index, and when a pause ends (0: not paused).</summary>
internal sealed class ListenerEntry(RelayListener listener)
{
    public RelayListener Listener { get; } = listener;
    public int Index { get; set; }
    public long ResumeAt { get; set; }
}

/// <summary>Something a loop runs commands for: a session, or a listener.</summary>
internal interface ILoopWork
{
    void Execute(RelayLoop loop, RelayCommand command);
}

internal enum RelayCommand
{
    Connect,
    Start,
    CancelConnect,
    Listen,
    Unlisten,
}
