using PgGate.Cluster;
using PgGate.Config;

namespace PgGate.Tests.Cluster;

public class CheckHealthTests
{
    [Fact]
    public void First_result_decides_the_state()
    {
        var up = CheckHealth.Create(3, 3);
        Assert.True(up.Record(true));
        Assert.True(up.IsUp);
        Assert.Equal(CheckPhase.Up, up.Phase);

        var down = CheckHealth.Create(3, 3);
        Assert.True(down.Record(false));
        Assert.False(down.IsUp);
        Assert.Equal(CheckPhase.Down, down.Phase);
    }

    [Fact]
    public void An_up_server_goes_down_after_fall_consecutive_failures()
    {
        var h = CheckHealth.Create(rise: 3, fall: 3);
        h.Record(true);
        Assert.False(h.Record(false));
        Assert.Equal(CheckPhase.GoingDown, h.Phase);
        Assert.False(h.Record(false));
        Assert.True(h.IsUp);
        Assert.True(h.Record(false));
        Assert.False(h.IsUp);
        Assert.Equal(CheckPhase.Down, h.Phase);
    }

    [Fact]
    public void One_success_while_going_down_restores_full_health()
    {
        var h = CheckHealth.Create(3, 3);
        h.Record(true);
        h.Record(false);
        h.Record(false);
        h.Record(true);
        Assert.Equal(CheckPhase.Up, h.Phase);
        // Needs three more failures again, not one.
        h.Record(false);
        h.Record(false);
        Assert.True(h.IsUp);
    }

    [Fact]
    public void A_down_server_comes_up_after_rise_consecutive_successes_and_a_failure_resets_the_climb()
    {
        var h = CheckHealth.Create(rise: 2, fall: 3);
        h.Record(false);
        Assert.False(h.Record(true));
        Assert.Equal(CheckPhase.GoingUp, h.Phase);
        h.Record(false);
        Assert.Equal(CheckPhase.Down, h.Phase);
        h.Record(true);
        Assert.True(h.Record(true));
        Assert.True(h.IsUp);
        Assert.Equal(CheckPhase.Up, h.Phase);
    }

    [Fact]
    public void Interval_follows_the_phase_as_in_haproxy()
    {
        var o = new ServerOptions { Inter = TimeSpan.FromSeconds(2), FastInter = TimeSpan.FromSeconds(1), DownInter = TimeSpan.FromSeconds(5) };
        var h = CheckHealth.Create(3, 3);
        Assert.Equal(o.FastInter, h.NextInterval(o));
        h.Record(true);
        Assert.Equal(o.Inter, h.NextInterval(o));
        h.Record(false);
        Assert.Equal(o.FastInter, h.NextInterval(o));
        h.Record(false);
        h.Record(false);
        Assert.Equal(o.DownInter, h.NextInterval(o));
    }
}
