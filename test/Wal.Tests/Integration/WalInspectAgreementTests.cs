using DataSync.Wal.Dump;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;
using DataSync.Wal.Tests.Records;

namespace DataSync.Wal.Tests.Integration;

/// <summary>The acceptance check: over real 18.1 WAL, our reader and <c>datasync waldump</c> agree with pg_walinspect record for record.</summary>
[Collection(RealWalCollection.Name)]
public class WalInspectAgreementTests(RealWal wal)
{
    [Fact]
    public void The_workload_produced_at_least_50_MB_of_WAL_with_the_record_kinds_it_is_meant_to()
    {
        Assert.True(wal.End.Value - wal.Start.Value >= 50UL * 1024 * 1024, $"only {(wal.End.Value - wal.Start.Value) >> 20} MB of WAL");
        var kinds = wal.Expected.Select(r => $"{r.Rmgr} {r.Type}").ToHashSet();
        foreach (var kind in new[]
                 {
                     "Heap INSERT", "Heap INSERT+INIT", "Heap UPDATE", "Heap HOT_UPDATE", "Heap DELETE", "Heap TRUNCATE", "Heap HEAP_CONFIRM",
                     "Heap LOCK", "Heap INPLACE", "Heap2 MULTI_INSERT+INIT", "Heap2 NEW_CID", "Heap2 PRUNE_ON_ACCESS", "Heap2 VISIBLE",
                     "Transaction COMMIT", "Transaction ABORT", "Transaction PREPARE", "Transaction COMMIT_PREPARED", "Transaction ABORT_PREPARED",
                     "Standby RUNNING_XACTS", "XLOG CHECKPOINT_ONLINE", "XLOG FPI_FOR_HINT", "XLOG FPI", "XLOG SWITCH", "RelMap UPDATE", "Storage CREATE",
                     "Gin INSERT", "Gist PAGE_UPDATE", "Hash INSERT", "BRIN INSERT", "SPGist ADD_LEAF", "Btree INSERT_LEAF", "LogicalMessage MESSAGE",
                 }.Where(k => !kinds.Contains(k)))
            Assert.Fail($"no {kind} record; seen: {string.Join(", ", kinds.Order())}");
    }

    [Fact]
    public void The_reader_agrees_with_pg_get_wal_records_info_on_every_record()
    {
        using var reader = WalRecordReader.OpenFiles(wal.Segments);
        var index = 0;
        var compressedImages = 0;
        while (reader.MoveNext() && reader.Current.Lsn < wal.End)
        {
            var record = reader.Current;
            Assert.True(index < wal.Expected.Count, $"record at {record.Lsn} is beyond pg_walinspect's last");
            var expected = wal.Expected[index++];
            var actual = new RealWal.InspectedRecord(record.Lsn, record.EndLsn, record.PrevLsn, record.Xid, record.RmgrName, record.RecordType,
                record.TotalLength, (uint)record.MainDataLength, (uint)record.FullPageImageLength);
            Assert.Equal(expected, actual);
            foreach (var block in record.Blocks)
                if (block.Compression == ImageCompression.Pglz) compressedImages++;
        }

        Assert.Equal(wal.Expected.Count, index);
        Assert.True(compressedImages > 100, $"only {compressedImages} pglz images: the wal_compression=pglz round did not take effect");
    }

    [Fact]
    public void Segments_framed_in_parallel_agree_with_the_sequential_reader_and_pg_get_wal_records_info()
    {
        var sources = wal.Segments.Select(WalSegmentSource.FromFile).ToList();
        using var sequential = new WalRecordReader(sources);
        using var framed = new FramedRecordReader(FramedRecordComparison.FrameInParallel(SegmentFramer.Over(sources), sources));
        var index = 0;

        FramedRecordComparison.AssertSame(sequential, framed, record =>
        {
            if (record.Lsn >= wal.End) return;
            var expected = wal.Expected[index++];
            Assert.Equal(expected, new RealWal.InspectedRecord(record.Lsn, record.EndLsn, record.PrevLsn, record.Xid, record.RmgrName, record.RecordType,
                record.TotalLength, (uint)record.MainDataLength, (uint)record.FullPageImageLength));
        });

        Assert.Equal(wal.Expected.Count, index);
    }

    [Fact]
    public void Waldump_prints_lsn_rmgr_type_and_xid_exactly_as_pg_walinspect()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = WalDump.Run(wal.Segments, WalDumpFilter.None, stdout, stderr);

        Assert.True(exit == 0, stderr.ToString());
        var lines = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var compared = 0;
        foreach (var line in lines)
        {
            var fields = line.Split(' ', 5);
            if (Lsn.Parse(fields[0]) >= wal.End) break;
            var expected = wal.Expected[compared++];
            Assert.Equal($"{expected.Lsn} {expected.Rmgr} {expected.Type} {expected.Xid}", string.Join(' ', fields[..4]));
        }

        Assert.Equal(wal.Expected.Count, compared);
    }

    [Fact]
    public void Waldump_filters_by_xid_and_by_relfilenode()
    {
        var someXid = wal.Expected.First(r => r.Type == "COMMIT_PREPARED" || r.Type == "PREPARE").Xid;
        var xidExpected = wal.Expected.Where(r => r.Xid == someXid).Select(r => r.Lsn.ToString()).ToList();
        var stdout = new StringWriter();

        Assert.Equal(0, WalDump.Run(wal.Segments, new WalDumpFilter { Xid = someXid }, stdout, TextWriter.Null));

        var printed = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]).ToList();
        Assert.NotEmpty(xidExpected);
        Assert.Equal(xidExpected, printed.Where(l => Lsn.Parse(l) < wal.End));

        // pg_class is relfilenode 1259 until VACUUM FULL pg_class gives it a new one.
        var relOut = new StringWriter();
        Assert.Equal(0, WalDump.Run(wal.Segments, new WalDumpFilter { RelFileNode = 1259 }, relOut, TextWriter.Null));
        var relLines = relOut.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(relLines);
        Assert.All(relLines, l => Assert.Contains("/1259 fork", l));
    }
}
