using DataSync.Core.Archive;

namespace DataSync.Core.Tests.Archive;

public sealed class SegmentPlanTests
{
    private const uint SegmentSize = 16 * 1024 * 1024;

    private static ArchiveEntry[] Listing(params string[] names) => names.Select(n => new ArchiveEntry(n, SegmentSize)).ToArray();

    [Fact]
    public void Takes_the_following_segments_in_order_across_a_log_boundary()
    {
        var plan = SegmentPlan.After("0000000100000000000000FE", Listing(
            "000000010000000100000001", "0000000100000000000000FF", "000000010000000100000000", "0000000100000000000000FD", "00000001.history"), SegmentSize);

        Assert.Equal(["0000000100000000000000FF", "000000010000000100000000", "000000010000000100000001"], plan.Next.Select(e => e.Name));
        Assert.Null(plan.MissingSegment);
    }

    [Fact]
    public void A_hole_stops_the_plan_and_is_named()
    {
        var plan = SegmentPlan.After("000000010000000000000003", Listing(
            "000000010000000000000004", "000000010000000000000006", "000000010000000000000007"), SegmentSize);

        Assert.Equal(["000000010000000000000004"], plan.Next.Select(e => e.Name));
        Assert.Equal("000000010000000000000005", plan.MissingSegment);
    }

    [Fact]
    public void Nothing_new_is_not_a_gap()
    {
        var plan = SegmentPlan.After("000000010000000000000007", Listing("000000010000000000000006", "000000010000000000000007"), SegmentSize);
        Assert.Empty(plan.Next);
        Assert.Null(plan.MissingSegment);
    }

    [Fact]
    public void Compressed_segments_count_plain_ones_are_preferred_and_partials_and_other_timelines_do_not()
    {
        var plan = SegmentPlan.After("000000010000000000000001", Listing(
            "000000010000000000000002.zst", "000000010000000000000002", "000000010000000000000003.gz",
            "000000010000000000000004.partial", "000000020000000000000004", "000000010000000000000005.lz4"), SegmentSize);

        Assert.Equal(["000000010000000000000002", "000000010000000000000003.gz"], plan.Next.Select(e => e.Name));
        Assert.Equal("000000010000000000000004", plan.MissingSegment);
    }

    [Fact]
    public void The_limit_bounds_one_plan_without_calling_the_rest_a_gap()
    {
        var names = Enumerable.Range(2, 10).Select(i => $"0000000100000000{i:X8}").ToArray();
        var plan = SegmentPlan.After("000000010000000000000001", Listing(names), SegmentSize, limit: 3);
        Assert.Equal(3, plan.Next.Count);
        Assert.Null(plan.MissingSegment);
    }
}
