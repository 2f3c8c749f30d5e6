using PgGate.Services;

namespace PgGate.Failover;

/// <summary>
/// A byte-relay service paused for a switchover: new sessions wait before routing (the client sees a slow connect, then
/// lands on the new primary). A relay cannot see transaction boundaries, so sessions already relaying are not waited for;
/// the count says how many will meet the switchover.
/// </summary>
internal sealed class RouterPauseParticipant(ServiceListener listener) : IPauseParticipant
{
    public string Name => listener.Router.Name + " (relay)";

    public Task<int> PauseAsync(CancellationToken drain)
    {
        listener.Router.Pause();
        return Task.FromResult(listener.Stats.Active);
    }

    public void Resume() => listener.Router.Resume();
}
