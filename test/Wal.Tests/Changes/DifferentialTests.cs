using System.Diagnostics;
using DataSync.TestRig.Workloads;
using DataSync.Wal.Segments;
using DataSync.Wal.Changes;
using Xunit.Abstractions;

namespace DataSync.Wal.Tests.Changes;

/// <summary>
/// The acceptance test: a seeded random workload from several concurrent sessions on a real 18.1
/// production cluster, decoded from the archived WAL with a memory limit smaller than its largest
/// transaction, applied to a copy of the tables taken at the start LSN, gives tables identical to
/// production's. The second run hands the big transaction's rows out in parts ahead of its commit, as the daemon does
/// in a catch-up (<see cref="ReassemblerOptions.EndAhead"/>), and applies and commits each part at once: the tables
/// still end identical, which is what says that applying a transaction's rows at their place in the WAL, before the
/// other sessions' transactions that commit ahead of it, changes nothing.
/// </summary>
public sealed class DifferentialTests(ITestOutputHelper output)
{
    private const uint SegmentSize = 16 * 1024 * 1024;

    [Theory]
    [InlineData(20251125, false)]
    [InlineData(20261207, true)]
    public async Task Random_workload_replayed_from_wal_matches_production(int seed, bool ahead)
    {
        await using var rig = await ChangeRig.StartAsync(nameof(Random_workload_replayed_from_wal_matches_production),
            RandomWorkload.Ddl, RandomWorkload.Setup, ["public.items", "public.events", "public.pairs"]);
        await rig.CaptureStartAsync();

        var clock = Stopwatch.StartNew();
        const int sessions = 4;
        var workloads = new List<RandomWorkload>();
        var runs = new List<Task>();
        for (var s = 0; s < sessions; s++)
        {
            var connection = await rig.Production.Server.OpenAsync(DataSync.TestRig.ProductionCluster.Database);
            var workload = new RandomWorkload(connection, s, seed + s);
            workloads.Add(workload);
            // Besides the random mix: the big transaction, and relfilenode changes and a TRUNCATE while the others write.
            var session = s;
            Func<int, Task> extra = i => (session, i) switch
            {
                (0, 75) => workload.BigTransactionAsync(),
                (0, 100) => workload.StatementAsync("VACUUM FULL pairs"),
                (0, 120) => workload.StatementAsync("CLUSTER events USING events_pkey"),
                (1, 130) => workload.StatementAsync("TRUNCATE pairs"),
                _ => Task.CompletedTask,
            };
            runs.Add(Task.Run(async () =>
            {
                await using (connection) await workload.RunAsync(150, extra);
            }));
        }

        await Task.WhenAll(runs);
        await rig.ArchiveAsync();
        output.WriteLine($"workload: {workloads.Sum(w => w.Transactions)} transactions in {clock.Elapsed.TotalSeconds:F1} s, {rig.Segments.Count} segments");

        var spill = new SpillStore(Path.Combine(Path.GetTempPath(), $"datasync-spill-tests-{Environment.UserName}", Guid.NewGuid().ToString("N")));
        try
        {
            // A crash leaves files behind; the sweep at start-up removes them.
            await File.WriteAllTextAsync(Path.Combine(spill.Directory, "xid-1-1-1" + SpillStore.FileExtension), "left over");
            Assert.Equal(1, spill.SweepOrphans());

            const long memoryLimit = 2 * 1024 * 1024;
            await using var local = await rig.OpenLocalAsync();
            var applier = new TestApplier(local);
            clock.Restart();
            long transactions = 0, largestSpill = 0, parts = 0;
            var scout = new TransactionEndScout(lsn => rig.Segments.Where(s => WalSegmentName.TryParse(Path.GetFileName(s), out var name)
                && name.SegmentNumber(SegmentSize) >= lsn.Value / SegmentSize).Select(WalSegmentSource.FromFile).ToList());
            var options = new ReassemblerOptions { MemoryLimitBytes = memoryLimit, Spill = spill };
            if (ahead) options = options with { EndAhead = scout.Find, AheadPartBytes = 512 * 1024 };
            using (var decoder = rig.Decoder(options))
            {
                foreach (var transaction in decoder.Transactions())
                {
                    Assert.False(transaction.StartedBeforeDecoding, $"transaction {transaction.Xid} reported as started before the start");
                    if (transaction.AheadOfCommit) parts++;
                    else transactions++;
                    largestSpill = Math.Max(largestSpill, transaction.SpilledBytes);
                    await applier.ApplyAsync(transaction);
                }

                var reassembler = decoder.Reassembler;
                output.WriteLine($"decoded and applied {transactions} transactions ({applier.Inserts} inserts, {applier.Updates} updates, {applier.Deletes} deletes) " +
                    $"in {clock.Elapsed.TotalSeconds:F1} s; {reassembler.SpilledTransactions} spilled, largest spill {largestSpill / 1024 / 1024} MiB, peak memory {reassembler.PeakMemoryBytes / 1024} KiB; " +
                    $"{parts} part(s) ahead of a commit, {scout.SegmentsRead} segment(s) read ahead");
                Assert.Equal(0, reassembler.OpenTransactionCount);
                if (ahead)
                {
                    // The big transaction (60k rows and twenty 1 MB values) came out in parts.
                    Assert.True(parts >= 20, $"only {parts} part(s) were handed out ahead of a commit");
                }
                else
                {
                    Assert.True(reassembler.SpilledTransactions > 0, "nothing was spilled");
                    Assert.True(largestSpill > 16 * 1024 * 1024, $"the largest transaction spilled only {largestSpill} bytes");
                }

                // The limit holds up to one memory chunk's overshoot (entries are small: a 1 MB value is written as ~2 kB TOAST chunks).
                Assert.True(reassembler.PeakMemoryBytes <= memoryLimit + 64 * 1024, $"peak memory {reassembler.PeakMemoryBytes}");
            }

            Assert.Empty(spill.Files());
            // The sessions run at their own pace, so the events' order across tables varies.
            var events = applier.Events.Select(e => e switch
            {
                RelfilenodeChangedEvent refiled => "refiled " + refiled.Table.Name,
                TruncateEvent truncate => "truncate " + string.Join(",", truncate.Tables.Select(t => t.Name)),
                _ => e.ToString()!,
            }).ToList();
            output.WriteLine("events: " + string.Join("; ", events));
            Assert.Equal(["refiled events", "refiled pairs", "refiled pairs", "truncate pairs"], events.Order());
            Assert.True(applier.Inserts > 60000 && applier.Updates > 100 && applier.Deletes > 100, "the workload did not exercise every kind of change");
            await rig.AssertSameAsync("items", "id");
            await rig.AssertSameAsync("events", "id");
            await rig.AssertSameAsync("pairs", "a, b");
        }
        finally
        {
            Directory.Delete(spill.Directory, recursive: true);
        }
    }
}
