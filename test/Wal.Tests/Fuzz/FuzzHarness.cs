using System.Diagnostics;
using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;
using DataSync.Wal.Segments;
using DataSync.Wal.Typed;

namespace DataSync.Wal.Tests.Fuzz;

/// <summary>
/// Runs the whole reader over one mutated input — framing, CRC, block decoding, image restore and
/// every typed parser — and accepts only two outcomes: a clean end, or a <see cref="WalFormatException"/>.
/// Anything else, a run that takes too long, or one that allocates without bound fails the test.
/// </summary>
public sealed class FuzzHarness
{
    private const long MaxBytesPerRun = 64L * 1024 * 1024;
    private static readonly TimeSpan MaxTimePerRun = TimeSpan.FromSeconds(5);
    private readonly byte[] _page = new byte[8192];

    public Dictionary<string, int> Outcomes { get; } = [];
    public int Runs { get; private set; }
    public List<string> FirstTypedErrors { get; } = [];
    public long RecordsRead { get; private set; }

    public void Run(IReadOnlyList<WalSegmentSource> sources, string what)
    {
        Runs++;
        var clock = Stopwatch.StartNew();
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        string outcome;
        try
        {
            using var reader = new WalRecordReader(sources);
            while (reader.MoveNext())
            {
                RecordsRead++;
                Exercise(reader.Current);
                if (clock.Elapsed > MaxTimePerRun) throw new TimeoutException($"{what}: reading takes longer than {MaxTimePerRun}");
            }

            outcome = "end: " + reader.End;
        }
        catch (WalFormatException e)
        {
            Assert.False(string.IsNullOrEmpty(e.FileName), $"{what}: error without a file name: {e.Message}");
            outcome = "error: " + e.Kind;
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{what}: {e.GetType().Name} instead of a WalFormatException: {e}");
        }

        var used = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.True(used < MaxBytesPerRun, $"{what}: allocated {used} bytes");
        Assert.True(clock.Elapsed < MaxTimePerRun, $"{what}: took {clock.Elapsed}");
        Outcomes[outcome] = Outcomes.GetValueOrDefault(outcome) + 1;
    }

    /// <summary>Counts of typed-parser and image errors, by kind.</summary>
    public int TypedErrors => Outcomes.Where(o => o.Key.StartsWith("typed/", StringComparison.Ordinal)).Sum(o => o.Value);

    public string Summary() => string.Join(", ", Outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} x{o.Value}"));

    private void Exercise(WalRecord record)
    {
        for (var i = 0; i < record.BlockCount; i++)
        {
            _ = record.BlockData(i).Length + record.BlockImage(i).Length;
            if (record.Block(i).HasImage) Try(() => record.RestorePageImage(i, _page));
        }

        var op = record.Info & 0x70;
        switch (record.Rmgr)
        {
            case RmgrId.Heap when op == HeapOpcodes.Insert: Try(() => HeapInsert.Parse(record)); break;
            case RmgrId.Heap when op == HeapOpcodes.Delete: Try(() => HeapDelete.Parse(record)); break;
            case RmgrId.Heap when op is HeapOpcodes.Update or HeapOpcodes.HotUpdate: Try(() => HeapUpdate.Parse(record)); break;
            case RmgrId.Heap when op == HeapOpcodes.Truncate:
                Try(() =>
                {
                    var t = HeapTruncate.Parse(record);
                    for (var i = 0; i < t.RelationCount; i++) _ = t.RelationId(i);
                });
                break;
            case RmgrId.Heap when op == HeapOpcodes.Confirm: Try(() => HeapConfirm.Parse(record)); break;
            case RmgrId.Heap when op == HeapOpcodes.Lock: Try(() => HeapLock.Parse(record)); break;
            case RmgrId.Heap when op == HeapOpcodes.Inplace: Try(() => HeapInplace.Parse(record)); break;
            case RmgrId.Heap2 when op == HeapOpcodes.Heap2MultiInsert:
                Try(() =>
                {
                    var multi = Heap2MultiInsert.Parse(record);
                    foreach (var tuple in multi) _ = tuple.Body.Length;
                    for (var i = 0; i < multi.TupleCount && !multi.InitPage; i++) _ = multi.Offnum(i);
                });
                break;
            case RmgrId.Heap2 when op == HeapOpcodes.Heap2NewCid: Try(() => Heap2NewCid.Parse(record)); break;
            case RmgrId.Heap2 when op is >= 0x10 and <= 0x30: Try(() => Heap2Prune.Parse(record)); break;
            case RmgrId.Heap2 when op == HeapOpcodes.Heap2Visible: Try(() => Heap2Visible.Parse(record)); break;
            case RmgrId.Heap2 when op == HeapOpcodes.Heap2LockUpdated: Try(() => HeapLock.Parse(record)); break;
            case RmgrId.Transaction when op is XactOpcodes.Commit or XactOpcodes.Abort or XactOpcodes.CommitPrepared or XactOpcodes.AbortPrepared:
                Try(() =>
                {
                    var f = XactFinish.Parse(record);
                    for (var i = 0; i < f.Subxacts.Count; i++) _ = f.Subxacts[i];
                    for (var i = 0; i < f.RelFileLocators.Count; i++) _ = f.RelFileLocators[i];
                    for (var i = 0; i < f.Invalidations.Count; i++) _ = f.Invalidations.ObjectId(i);
                });
                break;
            case RmgrId.Transaction when op == XactOpcodes.Prepare: Try(() => XactPrepare.Parse(record)); break;
            case RmgrId.Transaction when op == XactOpcodes.Assignment: Try(() => XactAssignment.Parse(record)); break;
            case RmgrId.Transaction when op == XactOpcodes.Invalidations: Try(() => XactInvalidations.Parse(record)); break;
            case RmgrId.Standby when record.RmgrInfo == StandbyRunningXacts.Opcode:
                Try(() =>
                {
                    var running = StandbyRunningXacts.Parse(record);
                    for (var i = 0; i < running.Xids.Count; i++) _ = running.Xids[i];
                });
                break;
            case RmgrId.Standby when record.RmgrInfo == StandbyLock.Opcode: Try(() => StandbyLock.Parse(record)); break;
            case RmgrId.Xlog when record.RmgrInfo is XlogCheckpoint.Online or XlogCheckpoint.Shutdown: Try(() => XlogCheckpoint.Parse(record)); break;
            case RmgrId.RelMap when record.RmgrInfo == 0: Try(() => RelMapUpdate.Parse(record)); break;
            case RmgrId.Storage when record.RmgrInfo == SmgrCreate.Opcode: Try(() => SmgrCreate.Parse(record)); break;
            case RmgrId.Storage when record.RmgrInfo == SmgrTruncate.Opcode: Try(() => SmgrTruncate.Parse(record)); break;
        }
    }

    private void Try(Action parse)
    {
        try
        {
            parse();
        }
        catch (WalFormatException e)
        {
            if (FirstTypedErrors.Count < 20) FirstTypedErrors.Add(e.Message);
            var key = "typed/image error: " + e.Kind;
            Outcomes[key] = Outcomes.GetValueOrDefault(key) + 1;
        }
    }
}
