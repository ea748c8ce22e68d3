using System.Diagnostics;
using DataSync.Core.Embedded;
using DataSync.Embedded;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Benchmarks.Suite;

/// <summary>
/// Section 3: getting a large table into an empty local database from a base backup. DataSync
/// (add-tables, start, until the rows are there) against doing it by hand with the same binaries:
/// copy the base backup, start it as a hot standby replaying the archive until consistent, then
/// COPY the table out of it and into the local database.
/// </summary>
internal static class BootstrapSection
{
    private const string Name = "3 bootstrap";
    private const string Ddl = "CREATE TABLE boot_rows (id bigint PRIMARY KEY, grp int NOT NULL, payload text NOT NULL);";

    public static async Task RunAsync(SuiteOptions options, DatasyncCli cli, ResultTable table)
    {
        // About 240 bytes of heap per row (192-character payload, header, alignment).
        var rows = (long)options.BootstrapMegabytes * 1024 * 1024 / 240;
        await using var production = await ProductionCluster.StartAsync("bench-boot", "off", new Dictionary<string, string> { ["max_wal_size"] = "'8GB'" });
        await production.ExecuteAsync(Ddl);
        const long chunk = 500_000;
        for (long from = 1; from <= rows; from += chunk)
            await production.ExecuteAsync($"INSERT INTO boot_rows SELECT g, g % 1000, repeat(md5(g::text), 6) FROM generate_series({from}, {Math.Min(rows, from + chunk - 1)}) g");
        await production.ExecuteAsync("VACUUM ANALYZE boot_rows");
        var heapBytes = await production.QueryScalarAsync<long>("SELECT pg_relation_size('boot_rows')");
        var totalBytes = await production.QueryScalarAsync<long>("SELECT pg_total_relation_size('boot_rows')");
        var backup = await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        var size = Format.Invariant($"{rows:N0} rows, heap {heapBytes / 1048576.0:F0} MiB, with its primary key {totalBytes / 1048576.0:F0} MiB");
        Console.WriteLine($"bootstrap table: {size}");

        // DataSync: from `datasync start` until the table's rows are visible (it copies in one transaction).
        TimeSpan ours;
        await using (var synced = await SyncedLocal.CreateAsync("bench-boot", production, cli, Ddl, ["boot_rows"], options.ProfileDirectory))
        {
            // DataSync runs first: without this it would read the new backup from disk and the copy by hand after it from the page cache.
            WarmPageCache(backup.Directory);
            var startedUtc = DateTime.UtcNow;
            var clock = Stopwatch.StartNew();
            synced.StartDaemon();
            ours = await Visibility.WaitAsync(synced.Local.ConnectionString, "SELECT EXISTS (SELECT 1 FROM boot_rows)", clock, TimeSpan.FromMinutes(60), "datasync bootstrap", synced.Diagnostics, Visibility.DataSyncFailures);
            var copied = await synced.Local.QueryScalarAsync<long>("SELECT count(*) FROM boot_rows");
            if (copied != rows) throw new InvalidOperationException($"datasync copied {copied} rows, production has {rows}");
            foreach (var line in synced.LogSince(startedUtc)) Console.WriteLine("  daemon: " + line);
        }

        // By hand: the same base backup, the same binaries, the same kind of target cluster.
        WarmPageCache(backup.Directory);
        var byHand = await RestoreAndCopyByHandAsync(production, backup);
        table.Add(new ResultRow(Name, "restore base backup + copy the table into an empty local database", Stats.Seconds(ours),
            $"by hand: copy backup, start hot standby, COPY out → COPY in {Stats.Seconds(byHand.Total)}", byHand.Total / ours, Note: size));
        table.Note(Format.Invariant(
            $"Bootstrap by hand, per phase: copy the backup folder {byHand.Copy.TotalSeconds:F1} s, start and reach consistency {byHand.Start.TotalSeconds:F1} s, COPY BINARY out and in {byHand.CopyTable.TotalSeconds:F1} s. DataSync's time includes its own start-up, catalog reading and stopping the restore.") +
            " Both read the base backup from the page cache: every file of it is read once just before each side starts (DataSync runs first, and used to read it cold).");

        // Four tables bootstrapped together against the largest alone (the row above): the copies run side by side.
        var (together, fourSize) = await FourTablesAsync(options, production, cli, rows);
        table.Add(new ResultRow(Name, "4 tables bootstrapped together (the table above plus three of 1/2, 1/4 and 1/4 its rows)", Stats.Seconds(together),
            $"the largest table alone (row above) {Stats.Seconds(ours)}", ours / together, Target: "4 tables ≤ 1.5 × the largest alone (ratio ≥ 0.67)",
            Met: together <= ours * 1.5, Note: fourSize));
    }

    /// <summary>Reads every file under <paramref name="folder"/> once, so that whichever side copies the backup next finds it in the page cache.</summary>
    private static void WarmPageCache(string folder)
    {
        var buffer = new byte[1 << 20];
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            using var stream = File.OpenRead(file);
            while (stream.Read(buffer, 0, buffer.Length) > 0)
            {
            }
        }
    }

    /// <summary>The three tables added beside boot_rows for the four-table bootstrap, with their share of its rows.</summary>
    private static readonly (string Name, int Divisor)[] Companions = [("boot_half", 2), ("boot_quarter_a", 4), ("boot_quarter_b", 4)];

    private static string CompanionDdl(string name) => $"CREATE TABLE {name} (id bigint PRIMARY KEY, grp int NOT NULL, payload text NOT NULL);";

    /// <summary>
    /// Adds the companion tables to production, takes a new base backup holding all four and times a daemon that
    /// bootstraps all four into an empty local database, until every one has its rows.
    /// </summary>
    private static async Task<(TimeSpan Elapsed, string Size)> FourTablesAsync(SuiteOptions options, ProductionCluster production, DatasyncCli cli, long largestRows)
    {
        const long chunk = 500_000;
        foreach (var (name, divisor) in Companions)
        {
            var count = largestRows / divisor;
            await production.ExecuteAsync(CompanionDdl(name));
            for (long from = 1; from <= count; from += chunk)
                await production.ExecuteAsync($"INSERT INTO {name} SELECT g, g % 1000, repeat(md5(g::text), 6) FROM generate_series({from}, {Math.Min(count, from + chunk - 1)}) g");
            await production.ExecuteAsync($"VACUUM ANALYZE {name}");
        }

        var all = new[] { "boot_rows" }.Concat(Companions.Select(c => c.Name)).ToList();
        var totalBytes = await production.QueryScalarAsync<long>($"SELECT sum(pg_total_relation_size(t::regclass))::bigint FROM unnest(ARRAY['{string.Join("','", all)}']) t");
        var backup = await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        // As for the single table it is compared with.
        WarmPageCache(backup.Directory);
        var ddl = Ddl + string.Concat(Companions.Select(c => CompanionDdl(c.Name)));
        await using var synced = await SyncedLocal.CreateAsync("bench-boot4", production, cli, ddl, all, options.ProfileDirectory);
        var startedUtc = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        synced.StartDaemon();
        // Each table commits on its own: the bootstrap is done when the last one has its rows.
        var elapsed = await Visibility.WaitAsync(synced.Local.ConnectionString, "SELECT " + string.Join(" AND ", all.Select(t => $"EXISTS (SELECT 1 FROM {t})")), clock,
            TimeSpan.FromMinutes(60), "datasync 4-table bootstrap", synced.Diagnostics, Visibility.DataSyncFailures);
        foreach (var name in all)
        {
            var expected = name == "boot_rows" ? largestRows : largestRows / Companions.Single(c => c.Name == name).Divisor;
            var copied = await synced.Local.QueryScalarAsync<long>($"SELECT count(*) FROM {name}");
            if (copied != expected) throw new InvalidOperationException($"datasync copied {copied} rows of {name}, production has {expected}");
        }

        foreach (var line in synced.LogSince(startedUtc)) Console.WriteLine("  daemon: " + line);
        return (elapsed, Format.Invariant($"4 tables, {largestRows * 2:N0} rows, {totalBytes / 1048576.0:F0} MiB with their primary keys"));
    }

    private sealed record ByHand(TimeSpan Copy, TimeSpan Start, TimeSpan CopyTable)
    {
        public TimeSpan Total => Copy + Start + CopyTable;
    }

    private static async Task<ByHand> RestoreAndCopyByHandAsync(ProductionCluster production, BaseBackupInfo backup)
    {
        var (binaries, account) = await TestPostgres.GetAsync();
        await using var local = await LocalCluster.StartAsync("bench-boot-hand");
        await local.ExecuteAsync(Ddl);
        var root = TestPostgres.NewClusterRoot("restore-by-hand");
        var data = Path.Combine(root, "data");
        try
        {
            var clock = Stopwatch.StartNew();
            await ProcessRunner.RunCheckedAsync("cp", ["-a", backup.Directory, data]);
            var copy = clock.Elapsed;

            var server = new PostgresServer(new PostgresServerOptions
            {
                Binaries = binaries,
                Account = account,
                DataDirectory = data,
                Port = PostgresServer.FindFreePort(),
                Settings = new Dictionary<string, string>
                {
                    ["hot_standby"] = "on",
                    ["archive_mode"] = "off",
                    ["restore_command"] = PostgresServer.Quote($"cp {production.ArchiveDirectory}/%f %p"),
                },
            });
            await server.WriteSettingsAsync();
            await File.WriteAllTextAsync(Path.Combine(data, "standby.signal"), "");
            await account.TakeOwnershipAsync(root);
            File.SetUnixFileMode(data, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            await using (server)
            {
                // pg_ctl -w returns once a hot standby accepts connections: it has replayed to consistency.
                await server.StartAsync();
                var started = clock.Elapsed;

                await using var source = await server.OpenAsync(ProductionCluster.Database);
                await using var target = new NpgsqlConnection(local.ConnectionString);
                await target.OpenAsync();
                await using (var outStream = await source.BeginRawBinaryCopyAsync("COPY boot_rows TO STDOUT (FORMAT binary)"))
                await using (var inStream = await target.BeginRawBinaryCopyAsync("COPY boot_rows FROM STDIN (FORMAT binary)"))
                {
                    await outStream.CopyToAsync(inStream);
                }

                var done = clock.Elapsed;
                await server.StopAsync();
                return new ByHand(copy, started - copy, done - started);
            }
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }
}
