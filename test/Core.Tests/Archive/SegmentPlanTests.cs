using DataSync.Core.Archive;
using DataSync.Wal.Segments;

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
    public void The_newest_segment_still_being_copied_in_place_is_waited_for_not_taken()
    {
        var listing = Listing("000000010000000000000004").Append(new ArchiveEntry("000000010000000000000005", SegmentSize / 3)).ToArray();
        var plan = SegmentPlan.After("000000010000000000000003", listing, SegmentSize);
        Assert.Equal(["000000010000000000000004"], plan.Next.Select(e => e.Name));
        Assert.Null(plan.MissingSegment);

        // With later segments after it, a short one is not being written: it is taken and its checks will name it.
        var truncated = listing.Concat(Listing("000000010000000000000006")).ToArray();
        Assert.Equal(["000000010000000000000004", "000000010000000000000005", "000000010000000000000006"],
            SegmentPlan.After("000000010000000000000003", truncated, SegmentSize).Next.Select(e => e.Name));

        // A compressed copy is never judged by its size.
        var compressed = Listing("000000010000000000000004").Append(new ArchiveEntry("000000010000000000000005.zst", 1000)).ToArray();
        Assert.Equal(2, SegmentPlan.After("000000010000000000000003", compressed, SegmentSize).Next.Count);
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

    // 16 MiB segments: segment N starts at N * 0x1000000, so 0/5A00028 lies in segment 5.
    private static TimelineHistory History(uint timeline, string text) => TimelineHistory.Parse($"{timeline:X8}.history", text);

    private static readonly TimelineHistory Two = History(2, "1\t0/5A00028\tno recovery target specified\n");
    private static readonly TimelineHistory Three = History(3, "1\t0/5A00028\tno recovery target specified\n2\t0/8000000\tafter promotion\n");

    [Fact]
    public void At_a_switch_inside_a_segment_the_new_timelines_copy_of_that_segment_follows_and_the_partial_and_dead_segments_do_not()
    {
        var plan = SegmentPlan.After("000000010000000000000003", Listing(
            "000000010000000000000004", "000000010000000000000005.partial", "00000002.history",
            "000000020000000000000005", "000000020000000000000006.zst", "000000010000000000000006", "000000010000000000000007"), SegmentSize,
            histories: [Two]);

        Assert.Equal(["000000010000000000000004", "000000020000000000000005", "000000020000000000000006.zst"], plan.Next.Select(e => e.Name));
        Assert.Null(plan.MissingSegment); // the old primary's segments 6 and 7 are a dead branch, not later WAL
        Assert.Equal(2u, plan.Timeline);
    }

    [Fact]
    public void Several_switches_are_followed_to_the_newest_timeline()
    {
        var plan = SegmentPlan.After("000000010000000000000004", Listing(
            "000000010000000000000005.partial", "000000020000000000000005", "000000020000000000000006", "000000020000000000000007",
            "000000030000000000000008", "000000030000000000000009", "000000020000000000000008.partial"), SegmentSize,
            histories: [Two, Three]);

        // Timeline 2 ended exactly where segment 8 begins: timeline 3 starts with a segment of its own.
        Assert.Equal(["000000020000000000000005", "000000020000000000000006", "000000020000000000000007", "000000030000000000000008", "000000030000000000000009"],
            plan.Next.Select(e => e.Name));
        Assert.Equal(3u, plan.Timeline);
        Assert.Null(plan.Unfollowable);
    }

    [Fact]
    public void When_the_only_copy_of_the_switch_segment_is_the_partial_the_plan_waits()
    {
        var plan = SegmentPlan.After("000000010000000000000004", Listing("000000010000000000000005.partial", "00000002.history"), SegmentSize, histories: [Two]);
        Assert.Empty(plan.Next);
        Assert.Null(plan.MissingSegment);

        // Before the history file is known, the partial alone is not a segment either.
        var withoutHistory = SegmentPlan.After("000000010000000000000004", Listing("000000010000000000000005.partial"), SegmentSize);
        Assert.Empty(withoutHistory.Next);
        Assert.Null(withoutHistory.MissingSegment);
    }

    [Fact]
    public void A_hole_on_the_new_timeline_is_a_gap_named_on_the_new_timeline()
    {
        var plan = SegmentPlan.After("000000010000000000000004", Listing(
            "000000010000000000000005.partial", "000000020000000000000005", "000000020000000000000007"), SegmentSize, histories: [Two]);

        Assert.Equal(["000000020000000000000005"], plan.Next.Select(e => e.Name));
        Assert.Equal("000000020000000000000006", plan.MissingSegment);

        var switchSegmentMissing = SegmentPlan.After("000000010000000000000004", Listing(
            "000000010000000000000005.partial", "000000020000000000000006"), SegmentSize, histories: [Two]);
        Assert.Empty(switchSegmentMissing.Next);
        Assert.Equal("000000020000000000000005", switchSegmentMissing.MissingSegment);
    }

    [Fact]
    public void A_switch_inside_the_last_segment_taken_takes_that_segment_again_from_the_new_timeline()
    {
        var plan = SegmentPlan.After("000000010000000000000005", Listing(
            "000000010000000000000005", "000000020000000000000005", "000000020000000000000006"), SegmentSize, histories: [Two]);

        Assert.Equal(["000000020000000000000005", "000000020000000000000006"], plan.Next.Select(e => e.Name));
    }

    [Fact]
    public void A_timeline_that_forked_before_the_last_segment_taken_or_from_another_timeline_is_not_followed()
    {
        var plan = SegmentPlan.After("000000010000000000000007", Listing(
            "000000010000000000000008", "000000020000000000000008", "00000002.history"), SegmentSize, histories: [Two]);
        Assert.Equal(["000000010000000000000008"], plan.Next.Select(e => e.Name));
        Assert.Equal(1u, plan.Timeline);
        Assert.Equal(2u, plan.Unfollowable?.Timeline);
        Assert.Contains("branched off timeline 1 at 0/5A00028", plan.UnfollowableMessage, StringComparison.Ordinal);

        var sibling = History(4, "3\t0/9000000\tno recovery target specified\n");
        var onTwo = SegmentPlan.After("000000020000000000000007", Listing(
            "000000020000000000000008", "000000040000000000000008"), SegmentSize, histories: [Two, sibling]);
        Assert.Equal(["000000020000000000000008"], onTwo.Next.Select(e => e.Name));
        Assert.Equal(2u, onTwo.Timeline);
        Assert.Null(onTwo.Unfollowable); // a sibling branch is not ours to report
    }
}
