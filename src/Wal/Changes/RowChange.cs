using DataSync.Wal.Catalog;
using DataSync.Wal.Values;

namespace DataSync.Wal.Changes;

/// <summary>
/// A committed insert, update or delete of a synced table, with the rows in COPY BINARY terms.
/// </summary>
/// <remarks>
/// <para><see cref="OldKey"/> identifies the row an update or delete hits: for REPLICA IDENTITY
/// DEFAULT or INDEX it has the key columns set and the others NULL; for FULL it is the whole old
/// row. An update that kept the key writes no old key: then the key is <see cref="NewRow"/>'s.</para>
/// <para>In <see cref="NewRow"/> of an update, a column whose TOASTed value was left as it was is
/// <see cref="FieldState.UnchangedToast"/>: the applier must keep the local value.</para>
/// </remarks>
public sealed class RowChange : TransactionChange
{
    public RowChange(ChangeKind kind, TableDescriptor table, Lsn lsn, DecodedRow? oldKey, DecodedRow? newRow) : base(lsn)
    {
        Kind = kind;
        Table = table;
        OldKey = oldKey;
        NewRow = newRow;
    }

    public ChangeKind Kind { get; }
    public TableDescriptor Table { get; }

    /// <summary>Update and delete: the old key or old row, when WAL carries one; null otherwise.</summary>
    public DecodedRow? OldKey { get; }

    /// <summary>Insert and update: the new row; null for a delete.</summary>
    public DecodedRow? NewRow { get; }

    public override string ToString() => $"{Kind} {Table.QualifiedName} at {Lsn}";
}
