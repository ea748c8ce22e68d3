using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;
using DataSync.Wal.Segments;
using DataSync.Wal.Typed;

namespace DataSync.Wal.Changes;

/// <summary>
/// The first RUNNING_XACTS record at or after a point (a base backup's start: PostgreSQL logs one with
/// every online checkpoint, between the redo point and the checkpoint record). Its next xid splits
/// transactions in two: those assigned before it may have written WAL before the point; those assigned
/// from it on began after the point, so decoding from the point sees them whole.
/// </summary>
public sealed record RunningTransactionsMark(Lsn Lsn, uint NextXid)
{
    /// <summary>Reads <paramref name="segments"/> (from the one holding <paramref name="from"/>) up to the first RUNNING_XACTS at or after it; null when there is none yet.</summary>
    public static RunningTransactionsMark? Find(IEnumerable<WalSegmentSource> segments, Lsn from)
    {
        using var reader = new WalRecordReader(segments);
        while (reader.MoveNext())
        {
            var record = reader.Current;
            if (record.Lsn < from || record.Rmgr != RmgrId.Standby || (record.Info & 0xF0) != StandbyRunningXacts.Opcode) continue;
            return new RunningTransactionsMark(record.Lsn, StandbyRunningXacts.Parse(record).NextXid);
        }

        return null;
    }

    /// <summary>
    /// True when <paramref name="fullXid"/> (a 64-bit xid as pg_current_snapshot gives it) was assigned
    /// before this mark, compared the way PostgreSQL compares 32-bit xids (modulo 2^32).
    /// </summary>
    public bool AssignedBefore(ulong fullXid) => (int)((uint)fullXid - NextXid) < 0;
}
