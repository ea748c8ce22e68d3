using DataSync.Core.Apply;

namespace DataSync.Core.Tests.Apply;

public sealed class RoundSizesTests
{
    [Fact]
    public void A_batch_starts_at_an_eighth_and_doubles_up_to_the_full_round_then_starts_small_again()
    {
        var sizes = new RoundSizes(20_000);
        var seen = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            seen.Add(sizes.Current);
            sizes.Grow();
        }

        Assert.Equal([2_500, 5_000, 10_000, 20_000, 20_000, 20_000], seen);
        sizes.Restart();
        Assert.Equal(2_500, sizes.Current);
    }

    [Theory]
    [InlineData(1, new[] { 1, 1, 1 })]
    [InlineData(7, new[] { 1, 2, 4, 7, 7 })]
    [InlineData(int.MaxValue, new[] { 268_435_455, 536_870_910, 1_073_741_820, 2_147_483_640, int.MaxValue, int.MaxValue })]
    public void Small_and_huge_round_sizes_stay_within_one_and_the_full_size(int full, int[] expected)
    {
        var sizes = new RoundSizes(full);
        var seen = new List<int>();
        foreach (var _ in expected)
        {
            seen.Add(sizes.Current);
            sizes.Grow();
        }

        Assert.Equal(expected, seen);
    }
}
