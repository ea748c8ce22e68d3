using DataSync.Wal.Changes;

namespace DataSync.Wal.Tests.Changes;

/// <summary>The spill policy on its own: memory counted per log, the largest open transaction spilled past the limit, once.</summary>
public sealed class SpillPolicyTests : IDisposable
{
    private readonly SpillStore _store = new(Path.Combine(Path.GetTempPath(), $"datasync-spill-policy-tests-{Environment.UserName}", Guid.NewGuid().ToString("N")));
    private readonly Dictionary<uint, OpenTransaction> _open = [];

    [Fact]
    public void Past_the_limit_the_largest_open_transaction_is_spilled_once_and_its_later_entries_go_to_its_file()
    {
        // The first chunk a log rents is 4 KiB (at least): two small logs hold 8 KiB, under a 10 KiB limit.
        var policy = new SpillPolicy(10 * 1024, _store, _open);
        var small = Open(policy, 1);
        var large = Open(policy, 2);
        Append(policy, small, 100);
        Append(policy, large, 100);
        Assert.Equal(small.Log.MemoryBytes + large.Log.MemoryBytes, policy.MemoryBytes);
        Assert.Equal(0, policy.SpilledTransactions);

        // The larger log's next chunk passes the limit: it, not the smaller one, goes to its file.
        Append(policy, large, 5000);
        Assert.True(large.Log.HasSpilled);
        Assert.False(small.Log.HasSpilled);
        Assert.Equal(small.Log.MemoryBytes, policy.MemoryBytes);
        Assert.Equal(1, policy.SpilledTransactions);
        Assert.True(policy.PeakMemoryBytes > 10 * 1024, $"peak {policy.PeakMemoryBytes}");

        // Spilled for good: more entries take no memory and do not count it again.
        Append(policy, large, 50_000);
        Assert.Equal(0, large.Log.MemoryBytes);
        Assert.Equal(small.Log.MemoryBytes, policy.MemoryBytes);
        Assert.Equal(1, policy.SpilledTransactions);
        Assert.Single(_store.Files());

        policy.Release(small.Log);
        Assert.Equal(0, policy.MemoryBytes);
        foreach (var transaction in _open.Values) transaction.Log.Dispose();
        Assert.Empty(_store.Files());
    }

    [Fact]
    public void Without_a_store_nothing_is_spilled_whatever_the_memory()
    {
        var policy = new SpillPolicy(100, null, _open);
        var transaction = Open(policy, 7);
        for (var i = 0; i < 20; i++) Append(policy, transaction, 1000);

        Assert.False(transaction.Log.HasSpilled);
        Assert.Equal(0, policy.SpilledTransactions);
        Assert.Equal(transaction.Log.MemoryBytes, policy.MemoryBytes);
        Assert.True(policy.MemoryBytes >= 20 * 1000);
        Assert.Equal(policy.MemoryBytes, policy.PeakMemoryBytes);
        transaction.Log.Dispose();
    }

    [Fact]
    public void A_log_outside_the_open_transactions_is_counted_but_never_chosen()
    {
        // The log of a committing transaction has left the open ones; what is appended to it at commit still counts.
        var policy = new SpillPolicy(100, _store, _open);
        var committing = new OpenTransaction(9, new Lsn(16), policy.NewLog(9), false);
        Append(policy, committing, 1000);

        Assert.False(committing.Log.HasSpilled);
        Assert.Equal(committing.Log.MemoryBytes, policy.MemoryBytes);
        policy.Release(committing.Log);
        Assert.Equal(0, policy.MemoryBytes);
        committing.Log.Dispose();
    }

    private OpenTransaction Open(SpillPolicy policy, uint xid)
    {
        var transaction = new OpenTransaction(xid, new Lsn(16 * xid), policy.NewLog(xid), false);
        _open[xid] = transaction;
        return transaction;
    }

    private static void Append(SpillPolicy policy, OpenTransaction transaction, int bytes) =>
        policy.Append(transaction.Log, BufferedEntryKind.Insert, TransactionLog.ClearsToast, 0, transaction.Xid, new Lsn(64), default, new byte[bytes], default);

    public void Dispose()
    {
        foreach (var transaction in _open.Values) transaction.Log.Dispose();
        Directory.Delete(_store.Directory, recursive: true);
    }
}
