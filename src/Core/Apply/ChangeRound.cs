using System.Runtime.InteropServices;
using DataSync.Wal.Changes;

namespace DataSync.Core.Apply;

/// <summary>
/// One round of a table's changes, netted per row in commit order: an insert then updates is one insert,
/// updates then a delete one delete of the row as it was, an insert at a key deleted earlier in the round an
/// update, a key change moves the row (and a later change follows it to its new key). What is left is one
/// <see cref="NetChange"/> per row touched, in the order rows were first touched. Pure: no database.
/// </summary>
internal sealed class ChangeRound(int capacity)
{
    private readonly Dictionary<RowKey, NetChange> _current = new(Math.Min(capacity, 1 << 16));

    /// <summary>The net changes, in the order their rows were first touched.</summary>
    public List<NetChange> Order { get; } = new(Math.Min(capacity, 1 << 16));

    /// <summary>Row image bytes taken into the round (images replaced later still count: an upper bound).</summary>
    public long Bytes { get; private set; }

    /// <summary>Folds <paramref name="change"/> in; <paramref name="keyFields"/> are the row fields that form the key.</summary>
    public void Add(RowChange change, ReadOnlySpan<int> keyFields)
    {
        switch (change.Kind)
        {
            case ChangeKind.Insert:
            {
                // One hash lookup per row: a round of a bulk insert is tens of thousands of new keys.
                ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_current, RowKey.Of(change.NewRow!, keyFields), out var known);
                if (!known || slot!.Row is not null)
                {
                    slot = new NetChange(null, change.Lsn);
                    Order.Add(slot);
                }

                var net = slot;

                // An insert at a key deleted earlier in the round reuses that row: the net effect is an update.
                net.Row = change.NewRow!;
                net.Lsn = change.Lsn;
                break;
            }

            case ChangeKind.Update:
            {
                var newKey = RowKey.Of(change.NewRow!, keyFields);
                var oldKey = change.OldKey is { } old ? RowKey.Of(old, keyFields) : newKey;
                var net = Existing(oldKey, change);
                net.Row = net.Row is { } earlier ? change.NewRow!.FillUnchangedFrom(earlier) : change.NewRow!;
                net.Lsn = change.Lsn;
                if (!oldKey.Equals(newKey))
                {
                    net.KeyMoved = true;
                    // The row moves to a new key; whatever was deleted there earlier stays staged as a delete.
                    _current.Remove(oldKey);
                    _current[newKey] = net;
                }

                break;
            }

            default:
            {
                var key = RowKey.Of(change.OldKey ?? throw new InvalidOperationException($"{change} has no old key"), keyFields);
                var net = Existing(key, change);
                net.Row = null;
                net.Lsn = change.Lsn;
                break;
            }
        }

        Bytes += change.NewRow?.CopyTuple.Length ?? 0;
    }

    public void Clear()
    {
        _current.Clear();
        Order.Clear();
        Bytes = 0;
    }

    /// <summary>The net change of the row now at <paramref name="key"/>; a row the round has not touched was in the local table.</summary>
    private NetChange Existing(RowKey key, RowChange change)
    {
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_current, key, out var known);
        if (known) return slot!;
        slot = new NetChange(key.Bytes, change.Lsn);
        Order.Add(slot);
        return slot;
    }
}
