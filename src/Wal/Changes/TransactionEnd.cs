namespace DataSync.Wal.Changes;

/// <summary>
/// How a top-level transaction ends, as its COMMIT, ABORT or PREPARE record says: found ahead of the decoder in WAL
/// already at hand (<see cref="TransactionEndScout"/>).
/// </summary>
/// <param name="Lsn">Where the ending record starts (for a commit: the commit point every table's checkpoint is compared with).</param>
/// <param name="EndLsn">Where the record after it starts.</param>
/// <param name="Subxacts">The subtransactions that commit with it (a commit only).</param>
/// <param name="ChangesCatalog">
/// The commit carries catalog invalidations or drops relation files: the transaction changed some definition (DDL,
/// TRUNCATE, a rewrite), so its rows must be read with the catalog events at their places, at its commit.
/// </param>
public sealed record TransactionEnd(uint Xid, TransactionEndKind Kind, Lsn Lsn, Lsn EndLsn, DateTimeOffset Time, IReadOnlyList<uint> Subxacts, bool ChangesCatalog)
{
    /// <summary>
    /// Its rows may be applied before the decoder reaches its commit: it commits, as an ordinary transaction (a prepared
    /// one may wait for its COMMIT PREPARED indefinitely), and changes no definition.
    /// </summary>
    public bool AppliesAhead => Kind == TransactionEndKind.Commit && !ChangesCatalog;
}

/// <summary>The record that ends a transaction.</summary>
public enum TransactionEndKind
{
    Commit,
    Abort,
    Prepare,
}
