using System.Diagnostics;
using System.Globalization;
using DataSync.TestRig;
using DataSync.Wal;
using DataSync.Wal.Changes;
using DataSync.Wal.Segments;
using DataSync.Wal.Values;
using Npgsql;

namespace DataSync.Benchmarks;

/// <summary>
/// Full decoding (WAL records → committed changes → COPY BINARY rows) of a synced table's changes in
/// real archived segments, on one thread, next to PostgreSQL's own logical decoding of the same WAL
/// (pgoutput through a slot created before the workload) in the same run. Reports changes/s of each
/// and the ratio.
/// </summary>
internal static class FullDecodeBenchmark
{
    public static async Task<int> RunAsync(int rows, int repeats)
    {
        await using var fixture = await DecodeFixture.CreateAsync(rows);
        Console.WriteLine($"workload: {rows} inserts, {rows / 2} updates, {rows / 5} deletes in {fixture.WorkloadTime.TotalSeconds:F1} s; {fixture.Segments.Count} segments");

        var bestRead = Enumerable.Range(0, repeats).Select(_ => fixture.ReadRecords()).MinBy(r => r.Time);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"reading records alone (CRC, pages, segments): {bestRead.Records} records in {bestRead.Time.TotalSeconds:F3} s"));
        var bestOurs = Enumerable.Range(0, repeats).Select(_ => fixture.DecodeAll()).MinBy(r => r.Time);
        var theirs = new List<(long Changes, TimeSpan Time)>();
        for (var i = 0; i < repeats; i++) theirs.Add(await fixture.PgOutputAsync(consume: i == repeats - 1));

        var bestTheirs = theirs.MinBy(r => r.Time);
        var oursRate = bestOurs.Changes / bestOurs.Time.TotalSeconds;
        var theirsRate = bestTheirs.Changes / bestTheirs.Time.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"datasync full decode: {bestOurs.Changes} changes in {bestOurs.Time.TotalSeconds:F3} s = {oursRate / 1e6:F2} M changes/s (one thread; best of {repeats})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"pgoutput (slot, proto 4): {bestTheirs.Changes} changes in {bestTheirs.Time.TotalSeconds:F3} s = {theirsRate / 1e6:F2} M changes/s (one backend; best of {repeats})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio: {oursRate / theirsRate:F2}x"));
        if (bestOurs.Changes != fixture.ExpectedChanges || bestTheirs.Changes != fixture.ExpectedChanges)
        {
            Console.Error.WriteLine($"change counts differ from the workload's {fixture.ExpectedChanges}");
            return 1;
        }

        return 0;
    }

    public static ReassemblerOptions Options() =>
        new() { MemoryLimitBytes = 256L * 1024 * 1024, Spill = new SpillStore(Path.Combine(Path.GetTempPath(), "datasync-bench-spill")) };

    /// <summary>Decodes every change and writes its rows as COPY BINARY, as the applier would; returns the number of row changes.</summary>
    public static long CountChanges(ChangeDecoder decoder)
    {
        var output = new SendBuffer(1 << 20);
        long changes = 0;
        foreach (var transaction in decoder.Transactions())
        {
            foreach (var change in transaction.Changes)
            {
                if (change is not RowChange row) continue;
                changes++;
                if (row.NewRow is { HasUnchangedToast: false } newRow) CopyBinaryFormat.WriteRow(newRow, output);
                if (row.OldKey is { } oldKey) CopyBinaryFormat.WriteRow(oldKey, output);
                if (output.Length > (1 << 20)) output.Clear();
            }
        }

        return changes;
    }
}
