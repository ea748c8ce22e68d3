namespace DataSync.Wal.Changes;

/// <summary>
/// A committed change to a synced table that is not a row change: see <see cref="TruncateEvent"/>,
/// <see cref="RelfilenodeChangedEvent"/> and <see cref="SchemaChangedEvent"/>.
/// </summary>
public abstract class CatalogEvent : TransactionChange
{
    private protected CatalogEvent(Lsn lsn) : base(lsn)
    {
    }
}
