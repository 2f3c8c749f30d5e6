using PgGate.Config;

namespace PgGate.Cluster;

/// <summary>Where a check stands in HAProxy's terms; the interval to the next check follows from it.</summary>
public enum CheckPhase
{
    /// <summary>Not checked yet; the first result decides (PgGate does not assume a member healthy before it is seen).</summary>
    Init,
    Up,
    GoingDown,
    Down,
    GoingUp,
}

/// <summary>
/// HAProxy's health counter for one (member, check): a value in [0, rise + fall - 1]; the server is up
/// while it is at least <c>rise</c>. A failure while up counts down and at <c>rise - 1</c> the server
/// drops to 0 (down); a success while down counts up and at <c>rise</c> it jumps to the top (up). So
/// <c>fall</c> consecutive failures take an up server down and <c>rise</c> consecutive successes bring
/// a down one up, and one success while going down restores full health, exactly as HAProxy does.
/// </summary>
public struct CheckHealth
{
    private int _health;
    private bool _checked;

    public readonly bool IsUp => _checked && _health >= Rise;

    public int Rise { get; private set; }
    public int Fall { get; private set; }

    public readonly int Health => _health;

    public static CheckHealth Create(int rise, int fall) => new() { Rise = rise, Fall = fall };

    public readonly CheckPhase Phase
    {
        get
        {
            if (!_checked)
                return CheckPhase.Init;
            if (_health >= Rise)
                return _health == Rise + Fall - 1 ? CheckPhase.Up : CheckPhase.GoingDown;
            return _health == 0 ? CheckPhase.Down : CheckPhase.GoingUp;
        }
    }

    /// <summary>Feeds one check result; returns true when the up/down state changed.</summary>
    public bool Record(bool passed)
    {
        var wasUp = IsUp;
        var wasChecked = _checked;
        if (!_checked)
        {
            _checked = true;
            _health = passed ? Rise + Fall - 1 : 0;
            return true;
        }

        if (passed)
        {
            if (_health < Rise)
                _health = _health + 1 >= Rise ? Rise + Fall - 1 : _health + 1;
            else
                _health = Rise + Fall - 1;
        }
        else if (_health >= Rise)
        {
            _health = _health - 1 < Rise ? 0 : _health - 1;
        }
        else
        {
            _health = 0;
        }
        return wasChecked && wasUp != IsUp;
    }

    /// <summary>Full health now, without waiting for <c>rise</c> passes: a leader confirmed by its check and its facts.</summary>
    public bool ForceUp()
    {
        var changed = !IsUp;
        _checked = true;
        _health = Rise + Fall - 1;
        return changed;
    }

    /// <summary>Down now, without waiting for <c>fall</c> failures: a member that is certainly not the leader any more.</summary>
    public bool ForceDown()
    {
        var changed = IsUp || !_checked;
        _checked = true;
        _health = 0;
        return changed;
    }

    /// <summary>HAProxy's choice of interval: <c>inter</c> when fully up, <c>downinter</c> when fully down, <c>fastinter</c> in between.</summary>
    public readonly TimeSpan NextInterval(ServerOptions options) => Phase switch
    {
        CheckPhase.Up => options.Inter,
        CheckPhase.Down => options.DownInter,
        _ => options.FastInter,
    };
}
