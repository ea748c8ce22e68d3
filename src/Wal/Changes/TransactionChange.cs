namespace DataSync.Wal.Changes;

/// <summary>One item of a committed transaction, in WAL order: a <see cref="RowChange"/> or a <see cref="CatalogEvent"/>.</summary>
public abstract class TransactionChange
{
    private protected TransactionChange(Lsn lsn) => Lsn = lsn;

    /// <summary>The WAL record the item came from.</summary>
    public Lsn Lsn { get; }
}
