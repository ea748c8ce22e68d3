using DataSync.Actors.Pipeline;

namespace DataSync.Actors.Tests.Pipeline;

/// <summary>How segments spooled by the daemon's early first fetch reach the watcher that starts after it.</summary>
public sealed class SegmentArrivalsTests
{
    [Fact]
    public void Segments_spooled_before_anyone_listens_are_told_once_when_the_listener_comes_then_each_one_as_it_lands()
    {
        var arrivals = new SegmentArrivals();
        arrivals.Arrived();
        arrivals.Arrived();
        var told = 0;

        arrivals.Listen(() => told++);
        Assert.Equal(1, told);
        arrivals.Arrived();
        arrivals.Arrived();
        Assert.Equal(3, told);
    }

    [Fact]
    public void A_restarted_watcher_replaces_the_listener_and_is_not_told_what_its_predecessor_heard()
    {
        var arrivals = new SegmentArrivals();
        var first = 0;
        var second = 0;
        arrivals.Listen(() => first++);
        arrivals.Arrived();

        arrivals.Listen(() => second++);
        arrivals.Arrived();
        Assert.Equal((1, 1), (first, second));
    }
}
