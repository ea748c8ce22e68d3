using DataSync.Actors.Control;
using DataSync.Actors.Daemon;

namespace DataSync.Actors.Tests.Control;

/// <summary>The endpoint's handshake nonces without Akka: a proof counts for an issued nonce within its lifetime, and the memory is bounded.</summary>
public sealed class ControlNoncesTests
{
    [Fact]
    public void A_proof_counts_for_an_issued_nonce_until_its_lifetime_ends_and_only_with_the_right_token()
    {
        var clock = new ManualClock();
        var nonces = new ControlNonces(clock);
        var nonce = nonces.Issue();

        Assert.True(nonces.Authorises("right", ControlToken.ClientProof("right", nonce)));
        Assert.False(nonces.Authorises("right", ControlToken.ClientProof("wrong", nonce)));
        Assert.False(nonces.Authorises("right", ControlToken.ClientProof("right", ControlToken.NewNonce())));
        Assert.False(nonces.Authorises("right", "right"));
        Assert.False(nonces.Authorises("right", null));

        clock.Now += ControlNonces.Lifetime;
        Assert.True(nonces.Authorises("right", ControlToken.ClientProof("right", nonce)));
        clock.Now += TimeSpan.FromSeconds(1);
        Assert.False(nonces.Authorises("right", ControlToken.ClientProof("right", nonce)));
    }

    [Fact]
    public void At_most_capacity_nonces_are_remembered_the_oldest_going_first_and_stale_ones_are_dropped()
    {
        var clock = new ManualClock();
        var nonces = new ControlNonces(clock);
        var first = nonces.Issue();
        for (var i = 1; i < ControlNonces.Capacity; i++)
        {
            clock.Now += TimeSpan.FromMilliseconds(1);
            nonces.Issue();
        }

        Assert.Equal(ControlNonces.Capacity, nonces.Count);
        Assert.True(nonces.Authorises("t", ControlToken.ClientProof("t", first)));
        clock.Now += TimeSpan.FromMilliseconds(1);
        var newest = nonces.Issue();
        Assert.Equal(ControlNonces.Capacity, nonces.Count);
        Assert.False(nonces.Authorises("t", ControlToken.ClientProof("t", first)));
        Assert.True(nonces.Authorises("t", ControlToken.ClientProof("t", newest)));

        // Once every earlier one has expired, issuing drops them all.
        clock.Now += ControlNonces.Lifetime + TimeSpan.FromMilliseconds(1);
        nonces.Issue();
        Assert.Equal(1, nonces.Count);
        clock.Now += TimeSpan.FromSeconds(1);
        nonces.Issue();
        Assert.Equal(2, nonces.Count);
    }

    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 12, 6, 1, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
