using DataSync.Wal.Dump;
using DataSync.Wal.Records;
using DataSync.Wal.Tests.Support;

namespace DataSync.Wal.Tests.Dump;

public class WalDumpTests
{
    private static string WriteSegments(WalBuilder wal)
    {
        var folder = Path.Combine(Path.GetTempPath(), "datasync-waldump-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        foreach (var (name, bytes) in wal.Segments()) File.WriteAllBytes(Path.Combine(folder, name), bytes);
        return folder;
    }

    [Fact]
    public void Prints_one_line_per_record_with_blocks_and_filters()
    {
        var wal = new WalBuilder();
        var a = new RelFileLocator(1663, 5, 16384);
        var b = new RelFileLocator(1663, 5, 16390);
        wal.Add(10, 0x80, 731, new RecordBody().Block(0, a, 0, [1, 2, 3, 4, 5, 6], willInit: true).Main([1, 0, 8]).ToArray());
        wal.Add(10, 0x20, 732, new RecordBody().Block(0, b, 3, [9, 9, 9, 9, 9, 9]).Block(1, null, 1).Main(new byte[14]).ToArray());
        wal.Add(1, 0x80, 731, new RecordBody().Main(new byte[16]).ToArray());
        var folder = WriteSegments(wal);
        try
        {
            var files = Directory.GetFiles(folder);
            var all = new StringWriter();
            var errors = new StringWriter();
            Assert.Equal(WalDump.ExitOk, WalDump.Run(files, WalDumpFilter.None, all, errors));
            var lines = all.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, lines.Length);
            Assert.StartsWith($"{wal.RecordLsns[0]} Heap INSERT+INIT 731 len=", lines[0]);
            Assert.Contains("blkref #0: rel 1663/5/16384 fork main blk 0 data 6 will-init", lines[0]);
            Assert.Contains("blkref #1: rel 1663/5/16390 fork main blk 1", lines[1]);
            Assert.StartsWith($"{wal.RecordLsns[2]} Transaction COMMIT 731 ", lines[2]);
            Assert.Contains("3 records", errors.ToString());

            var byXid = new StringWriter();
            Assert.Equal(0, WalDump.Run(files, new WalDumpFilter { Xid = 731 }, byXid, TextWriter.Null));
            Assert.Equal(2, byXid.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

            var byRel = new StringWriter();
            Assert.Equal(0, WalDump.Run(files, new WalDumpFilter { RelFileNode = 16390 }, byRel, TextWriter.Null));
            Assert.Single(byRel.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Fact]
    public void Bad_input_exits_1_with_file_offset_and_lsn_after_the_good_records()
    {
        var wal = new WalBuilder();
        wal.Add(21, 0, 0, new RecordBody().Main(new byte[40]).ToArray());
        var bad = wal.Add(21, 0, 0, new RecordBody().Main(new byte[40]).ToArray(), r => r[30] ^= 1);
        var folder = WriteSegments(wal);
        try
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();

            var exit = WalDump.Run(Directory.GetFiles(folder), WalDumpFilter.None, stdout, stderr);

            Assert.Equal(WalDump.ExitBadInput, exit);
            Assert.Single(stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
            var message = stderr.ToString();
            Assert.Contains("000000010000000000000001", message);
            Assert.Contains("BadCrc", message);
            Assert.Contains($"offset {bad.Value % wal.SegmentSize}", message);
            Assert.Contains(bad.ToString(), message);
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Fact]
    public void No_files_is_a_usage_error_and_a_missing_file_is_bad_input()
    {
        Assert.Equal(WalDump.ExitUsage, WalDump.Run([], WalDumpFilter.None, TextWriter.Null, TextWriter.Null));
        var stderr = new StringWriter();
        Assert.Equal(WalDump.ExitBadInput, WalDump.Run(["/nonexistent/000000010000000000000001"], WalDumpFilter.None, TextWriter.Null, stderr));
        Assert.Contains("000000010000000000000001", stderr.ToString());
        var notWal = new StringWriter();
        var path = Path.GetTempFileName();
        try
        {
            Assert.Equal(WalDump.ExitBadInput, WalDump.Run([path], WalDumpFilter.None, TextWriter.Null, notWal));
            Assert.Contains("BadFileName", notWal.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
