using DataSync.TestRig;

namespace DataSync.Core.Tests.Cli;

/// <summary>`datasync waldump` as a user runs it; the record-for-record comparison with pg_walinspect is in the Wal tests.</summary>
public sealed class WalDumpCommandTests
{
    [Fact]
    public async Task Dumps_real_segments_and_names_bad_files()
    {
        await using var production = await ProductionCluster.StartAsync("waldump-cli");
        await production.ExecuteAsync("CREATE TABLE w (id int PRIMARY KEY, v text); INSERT INTO w SELECT g, 'v' || g FROM generate_series(1, 100) g");
        var relfilenode = await production.QueryScalarAsync<uint>("SELECT relfilenode::oid FROM pg_class WHERE relname = 'w'");
        var segment = Path.Combine(production.ArchiveDirectory, await production.SwitchSegmentAndWaitArchivedAsync());

        var all = await CliRunner.RunAsync(null, "waldump", segment);
        Assert.True(all.ExitCode == 0, all.Error);
        var lines = all.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.Split(' ')[1] == "Heap" && l.Split(' ')[2].StartsWith("INSERT", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Split(' ')[1] == "Transaction" && l.Split(' ')[2] == "COMMIT");
        Assert.All(lines, l => Assert.Matches(@"^[0-9A-F]+/[0-9A-F]+ \S+ \S+ \d+ ", l));

        var filtered = await CliRunner.RunAsync(null, "waldump", segment, "--relfilenode", relfilenode.ToString());
        var heapLines = filtered.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(100, heapLines.Count(l => l.Split(' ')[2] is "INSERT" or "INSERT+INIT"));
        Assert.All(heapLines, l => Assert.Contains($"/{relfilenode} ", l));

        var truncated = Path.Combine(production.Root, "000000010000000000000009");
        await File.WriteAllBytesAsync(truncated, (await File.ReadAllBytesAsync(segment))[..10000]);
        var bad = await CliRunner.RunAsync(null, "waldump", truncated);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("000000010000000000000009", bad.Error);

        var missing = await CliRunner.RunAsync(null, "waldump", "/nonexistent/000000010000000000000001");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("no such file", missing.Error);
    }
}
