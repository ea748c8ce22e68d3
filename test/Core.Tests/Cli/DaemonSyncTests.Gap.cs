using System.Diagnostics;
using DataSync.Embedded;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Cli;

/// <summary>A segment missing from the middle of the archive: reported once, never skipped, and the sync resumes when it is back.</summary>
public sealed partial class DaemonSyncTests
{
    [Fact]
    public async Task A_gap_in_the_archive_is_reported_once_nothing_past_it_is_applied_and_the_sync_resumes_when_it_is_back()
    {
        await using var production = await ProductionCluster.StartAsync("daemon-gap");
        await using var local = await LocalCluster.StartAsync("daemon-gap");
        await production.ExecuteAsync(Ddl + "INSERT INTO items SELECT g, 'i' || g, g, NULL FROM generate_series(1, 300) g; INSERT INTO notes SELECT g, g, 'n' FROM generate_series(1, 100) g;");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(Ddl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "items, notes")).ExitCode);
        var pids = new List<int>();

        async Task StartAsync()
        {
            var started = await CliRunner.RunAsync(config, "start");
            Assert.True(started.ExitCode == 0, started.Error + started.Out + DaemonLogTail(local));
            pids.Add(int.Parse(PidPattern().Match(started.Out).Groups[1].Value));
        }

        try
        {
            await StartAsync();
            await WaitIdenticalAsync(production, local);
            // The daemon is stopped while production writes, so it cannot fetch a segment before the test takes it away.
            Assert.Equal(0, (await CliRunner.RunAsync(config, "stop")).ExitCode);

            // Segment A: changes before the gap. Their state is what the local tables must show while the gap lasts.
            await production.ExecuteAsync("UPDATE items SET name = 'before the gap' WHERE id <= 50; INSERT INTO notes VALUES (101, 1, 'before the gap')");
            await production.SwitchSegmentAndWaitArchivedAsync();
            var beforeGap = new Dictionary<string, string>();
            foreach (var table in new[] { "items", "notes" }) beforeGap[table] = await production.QueryScalarAsync<string>(Checksum(table));

            // Segment B (taken away), then C and D: changes past the gap.
            await production.ExecuteAsync("UPDATE items SET name = 'in the gap' WHERE id <= 100; DELETE FROM notes WHERE id <= 10");
            var missing = await production.SwitchSegmentAndWaitArchivedAsync();
            await production.ExecuteAsync("INSERT INTO items SELECT g, 'after the gap', g, NULL FROM generate_series(1001, 1100) g");
            await production.SwitchSegmentAndWaitArchivedAsync();
            await production.ExecuteAsync("UPDATE items SET price = 0 WHERE id BETWEEN 200 AND 250; INSERT INTO notes VALUES (102, 2, 'after the gap')");
            await production.SwitchSegmentAndWaitArchivedAsync();
            var aside = Path.Combine(local.Root, "aside");
            Directory.CreateDirectory(aside);
            File.Move(Path.Combine(production.ArchiveDirectory, missing), Path.Combine(aside, missing));

            await StartAsync();
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (await local.QueryScalarAsync<long>($"SELECT count(DISTINCT table_name) FROM data_sync_logs WHERE status = 'FAILED' AND archive_ref = '{missing}'") < 2)
            {
                Assert.True(DateTime.UtcNow < deadline, $"no FAILED log naming the missing segment {missing} for both tables; daemon log:\n" + DaemonLogTail(local));
                await Task.Delay(500);
            }

            // The segment before the gap is applied: the tables reach production's state as of segment A.
            deadline = DateTime.UtcNow.AddSeconds(90);
            foreach (var table in new[] { "items", "notes" })
            {
                while (await local.QueryScalarAsync<string>(Checksum(table)) != beforeGap[table])
                {
                    Assert.True(DateTime.UtcNow < deadline, $"{table} did not reach its state before the gap; daemon log:\n" + DaemonLogTail(local));
                    await Task.Delay(500);
                }
            }

            // Eight more cycles (DATA_SYNC_FREQ = 1) meet the same gap after that batch; it stays reported once, and nothing moves.
            await Task.Delay(TimeSpan.FromSeconds(8));

            foreach (var table in new[] { "public.items", "public.notes" })
            {
                Assert.Equal(1L, await local.QueryScalarAsync<long>($"SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED' AND table_name = '{table}'"));
                var detail = await local.QueryScalarAsync<string>($"SELECT error_detail FROM data_sync_logs WHERE status = 'FAILED' AND table_name = '{table}'");
                Assert.Contains($"WAL segment {missing} is missing from the archive", detail);
                Assert.Contains($"table {table}", detail);
            }

            // Still exactly production's rows as of segment A: nothing after the gap was applied.
            foreach (var table in new[] { "items", "notes" })
                Assert.True(beforeGap[table] == await local.QueryScalarAsync<string>(Checksum(table)), $"{table} is not at its state before the gap");
            Assert.Equal(50L, await local.QueryScalarAsync<long>("SELECT count(*) FROM items WHERE name = 'before the gap'"));
            Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM items WHERE name IN ('in the gap', 'after the gap') OR price = 0"));
            Assert.Equal(101L, await local.QueryScalarAsync<long>("SELECT count(*) FROM notes"));

            // The file is back: the sync goes on by itself to identical tables, and the gap is not reported again.
            File.Move(Path.Combine(aside, missing), Path.Combine(production.ArchiveDirectory, missing));
            await WaitIdenticalAsync(production, local);
            Assert.Equal(2L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
            Assert.Equal(100L, await local.QueryScalarAsync<long>("SELECT count(*) FROM items WHERE name = 'in the gap'"));
            Assert.Equal(0, (await CliRunner.RunAsync(config, "stop")).ExitCode);
        }
        finally
        {
            foreach (var pid in pids.Where(Processes.IsRunning)) Process.GetProcessById(pid).Kill();
        }
    }
}
