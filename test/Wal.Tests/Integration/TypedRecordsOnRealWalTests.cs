using System.Text;
using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;
using DataSync.Wal.Typed;

namespace DataSync.Wal.Tests.Integration;

/// <summary>Every typed record kind parsed from real 18.1 WAL, with checks that tie the parsed values to what the workload did.</summary>
[Collection(RealWalCollection.Name)]
public class TypedRecordsOnRealWalTests(RealWal wal)
{
    [Fact]
    public void Every_typed_record_of_the_workload_parses_and_tells_what_the_workload_did()
    {
        var counts = new Dictionary<string, int>();
        void Count(string what, int by = 1) => counts[what] = counts.GetValueOrDefault(what) + by;
        var preparedXids = new Dictionary<string, uint>();
        var finishedPrepared = new List<(string Gid, uint Xid, bool Commit)>();

        using var reader = WalRecordReader.OpenFiles(wal.Segments);
        while (reader.MoveNext())
        {
            var r = reader.Current;
            var op = r.Info & 0x70;
            switch (r.Rmgr)
            {
                case RmgrId.Heap when op == HeapOpcodes.Insert:
                    var insert = HeapInsert.Parse(r);
                    if (insert.ContainsNewTuple)
                    {
                        Assert.True(insert.Tuple.IsPresent && insert.Tuple.Hoff >= 24 && insert.Tuple.AttributeCount > 0);
                        Count("insert with new tuple");
                    }

                    if (insert.IsSpeculative) Count("speculative insert");
                    break;
                case RmgrId.Heap when op == HeapOpcodes.Delete:
                    var delete = HeapDelete.Parse(r);
                    if (delete.ContainsOldKey) Count("delete with old key");
                    if (delete.ContainsOldTuple)
                    {
                        Assert.Equal(2, delete.OldTuple.AttributeCount);
                        Count("delete with old row");
                    }

                    break;
                case RmgrId.Heap when op is HeapOpcodes.Update or HeapOpcodes.HotUpdate:
                    var update = HeapUpdate.Parse(r);
                    if (update.ContainsNewTuple) Count(update.IsHot ? "hot update with new tuple" : "update with new tuple");
                    if (update.ContainsOldTuple) Count("update with old row");
                    if (update.ContainsOldKey) Count("update with old key");
                    if (update.PrefixLength + update.SuffixLength > 0) Count("catalog update with prefix/suffix");
                    break;
                case RmgrId.Heap when op == HeapOpcodes.Truncate:
                    var truncate = HeapTruncate.Parse(r);
                    Assert.True(truncate.RelationCount >= 1 && truncate.RelationId(0) >= 16384);
                    Count("truncate");
                    break;
                case RmgrId.Heap when op == HeapOpcodes.Confirm:
                    Assert.True(HeapConfirm.Parse(r).Offnum > 0);
                    Count("confirm");
                    break;
                case RmgrId.Heap when op == HeapOpcodes.Lock:
                    HeapLock.Parse(r);
                    Count("lock");
                    break;
                case RmgrId.Heap when op == HeapOpcodes.Inplace:
                    var inplace = HeapInplace.Parse(r);
                    Assert.True(inplace.Offnum > 0);
                    Count("inplace");
                    break;
                case RmgrId.Heap2 when op == HeapOpcodes.Heap2MultiInsert:
                    var multi = Heap2MultiInsert.Parse(r);
                    var tuples = 0;
                    foreach (var tuple in multi)
                    {
                        Assert.True(tuple.Hoff >= 24);
                        tuples++;
                    }

                    if (!multi.TupleData.IsEmpty) Assert.Equal(multi.TupleCount, tuples);
                    if (multi.ContainsNewTuples) Count("multi-insert user tuples", tuples);
                    break;
                case RmgrId.Heap2 when op == HeapOpcodes.Heap2NewCid:
                    if (Heap2NewCid.Parse(r).Target.RelNumber != 0) Count("new cid");
                    break;
                case RmgrId.Heap2 when op is HeapOpcodes.Heap2PruneOnAccess or HeapOpcodes.Heap2PruneVacuumScan or HeapOpcodes.Heap2PruneVacuumCleanup:
                    Heap2Prune.Parse(r);
                    Count("prune");
                    break;
                case RmgrId.Heap2 when op == HeapOpcodes.Heap2Visible:
                    Heap2Visible.Parse(r);
                    Count("visible");
                    break;
                case RmgrId.Transaction when op is XactOpcodes.Commit or XactOpcodes.Abort or XactOpcodes.CommitPrepared or XactOpcodes.AbortPrepared:
                    var finish = XactFinish.Parse(r);
                    if (finish.Subxacts.Count > 0) Count(finish.IsCommit ? "commit with subxacts" : "abort with subxacts");
                    if (finish.RelFileLocators.Count > 0) Count("finish dropping files");
                    if (finish.Invalidations.Count > 0) Count("commit with invalidations");
                    if (finish.DroppedStats.Count > 0) Count("finish dropping stats");
                    if (finish.IsCommit && finish.DbId != 0) Count("commit with dbinfo");
                    if (finish.IsPrepared) finishedPrepared.Add((Encoding.UTF8.GetString(finish.Gid), finish.TwoPhaseXid, finish.IsCommit));
                    break;
                case RmgrId.Transaction when op == XactOpcodes.Prepare:
                    var prepare = XactPrepare.Parse(r);
                    Assert.Equal(r.Xid, prepare.Xid);
                    preparedXids[Encoding.UTF8.GetString(prepare.Gid) + "@" + r.Lsn] = prepare.Xid;
                    break;
                case RmgrId.Transaction when op == XactOpcodes.Invalidations:
                    Assert.True(XactInvalidations.Parse(r).Messages.Count > 0);
                    Count("invalidations");
                    break;
                case RmgrId.Standby when r.RmgrInfo == StandbyRunningXacts.Opcode:
                    var running = StandbyRunningXacts.Parse(r);
                    Assert.True(running.NextXid >= running.OldestRunningXid);
                    Count("running xacts");
                    break;
                case RmgrId.Standby when r.RmgrInfo == StandbyLock.Opcode:
                    Assert.True(StandbyLock.Parse(r).Count > 0);
                    break;
                case RmgrId.Xlog when r.RmgrInfo is XlogCheckpoint.Online or XlogCheckpoint.Shutdown:
                    var checkpoint = XlogCheckpoint.Parse(r);
                    Assert.True(checkpoint.Redo <= r.Lsn);
                    Assert.Equal(1u, checkpoint.ThisTimeline);
                    Assert.InRange(checkpoint.WalLevel, 1, 2); // initdb runs at replica, the server at logical
                    if (checkpoint.WalLevel == 2) Count("checkpoint at wal_level logical");
                    break;
                case RmgrId.RelMap:
                    Assert.Equal(524, RelMapUpdate.Parse(r).MapFile.Length);
                    Count("relmap");
                    break;
                case RmgrId.Storage when r.RmgrInfo == SmgrCreate.Opcode:
                    Assert.True(SmgrCreate.Parse(r).Relation.RelNumber > 0);
                    Count("smgr create");
                    break;
                case RmgrId.Storage when r.RmgrInfo == SmgrTruncate.Opcode:
                    SmgrTruncate.Parse(r);
                    break;
            }
        }

        var summary = string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}"));
        foreach (var (what, atLeast) in new (string, int)[]
                 {
                     ("insert with new tuple", 100_000), ("speculative insert", 1), ("confirm", 1), ("delete with old key", 1000), ("delete with old row", 100),
                     ("update with new tuple", 1000), ("update with old row", 100), ("update with old key", 1), ("hot update with new tuple", 1),
                     ("catalog update with prefix/suffix", 1), ("truncate", 2), ("lock", 1), ("inplace", 1), ("multi-insert user tuples", 2 * 30_000),
                     ("new cid", 1), ("prune", 1), ("visible", 1), ("commit with subxacts", 2), ("finish dropping files", 2),
                     ("commit with invalidations", 1), ("commit with dbinfo", 100), ("finish dropping stats", 1), ("invalidations", 1), ("running xacts", 1),
                     ("checkpoint at wal_level logical", 4), ("relmap", 2), ("smgr create", 1),
                 })
            Assert.True(counts.GetValueOrDefault(what) >= atLeast, $"{what}: {counts.GetValueOrDefault(what)} < {atLeast}; {summary}");

        // Each round prepares wl_commit and wl_abort; COMMIT/ROLLBACK PREPARED name the same gid and xid.
        Assert.Equal(4, preparedXids.Count);
        Assert.Equal(4, finishedPrepared.Count);
        foreach (var (gid, xid, commit) in finishedPrepared)
        {
            Assert.Equal(commit ? "wl_commit" : "wl_abort", gid);
            Assert.Contains(preparedXids, p => p.Key.StartsWith(gid + "@", StringComparison.Ordinal) && p.Value == xid);
        }
    }
}
