using DataSync.Embedded;
using DataSync.Core.Tests.Cli;
using DataSync.TestRig;
using static DataSync.Core.Tests.Acceptance.SyncedTables;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// The table shapes real schemas have, bootstrapped and then changed upstream through the daemon: a partitioned
/// table (a partition attached after creation with its own column order, a dropped column, a two-level default
/// partition) with rows moving between partitions; rows written before columns were added with defaults and after
/// one was dropped, updated and deleted later; generated and identity columns; two rows exchanging unique values and
/// keys in one transaction; quoted mixed-case schema, table and column names given on the command line.
/// </summary>
public sealed class DaemonTableShapesTests
{
    private const string LocalDdl = """
        CREATE TABLE events (region text NOT NULL, id bigint NOT NULL, note text, amount numeric, PRIMARY KEY (region, id)) PARTITION BY LIST (region);
        CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu');
        CREATE TABLE events_us PARTITION OF events FOR VALUES IN ('us');
        CREATE TABLE events_other PARTITION OF events DEFAULT;
        CREATE TABLE evolved (id int PRIMARY KEY, a text, b int, c int DEFAULT 42, d text DEFAULT 'dflt', f jsonb DEFAULT '{"k": [1, 2]}');
        CREATE TABLE gen (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, qty int, price numeric,
            total numeric GENERATED ALWAYS AS (qty * price) STORED);
        CREATE TABLE seats (id int PRIMARY KEY, seat text NOT NULL UNIQUE, holder text);
        CREATE SCHEMA "Sales";
        CREATE TABLE "Sales"."Order Lines" ("Order Id" int, "Line" int, "Qty" int, PRIMARY KEY ("Order Id", "Line"));
        """;

    private const string ProductionDdl = """
        CREATE TABLE events (region text NOT NULL, id bigint NOT NULL, gone int, note text, amount numeric, PRIMARY KEY (region, id)) PARTITION BY LIST (region);
        CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu');
        CREATE TABLE events_us (note text, amount numeric, id bigint NOT NULL, gone int, region text NOT NULL);
        ALTER TABLE events ATTACH PARTITION events_us FOR VALUES IN ('us');
        ALTER TABLE events DROP COLUMN gone;
        CREATE TABLE events_other PARTITION OF events DEFAULT PARTITION BY HASH (id);
        CREATE TABLE events_other_0 PARTITION OF events_other FOR VALUES WITH (MODULUS 2, REMAINDER 0);
        CREATE TABLE events_other_1 PARTITION OF events_other FOR VALUES WITH (MODULUS 2, REMAINDER 1);
        INSERT INTO events SELECT (ARRAY['eu', 'us', 'jp', 'br'])[1 + g % 4], g, 'n' || g, g FROM generate_series(1, 2000) g;
        CREATE TABLE evolved (id int PRIMARY KEY, a text, dropme text, b int);
        INSERT INTO evolved SELECT g, 'a' || g, 'x', g FROM generate_series(1, 300) g;
        ALTER TABLE evolved ADD COLUMN c int DEFAULT 42, ADD COLUMN d text DEFAULT 'dflt', ADD COLUMN f jsonb DEFAULT '{"k": [1, 2]}';
        ALTER TABLE evolved DROP COLUMN dropme;
        INSERT INTO evolved (id, a, b, c, d) SELECT g, 'a' || g, g, g, 'new' FROM generate_series(301, 350) g;
        CREATE TABLE gen (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, qty int, price numeric,
            total numeric GENERATED ALWAYS AS (qty * price) STORED);
        INSERT INTO gen (qty, price) SELECT g, g * 0.5 FROM generate_series(1, 200) g;
        CREATE TABLE seats (id int PRIMARY KEY, seat text NOT NULL UNIQUE, holder text);
        INSERT INTO seats SELECT g, 'S' || g, 'h' || g FROM generate_series(1, 100) g;
        CREATE SCHEMA "Sales";
        CREATE TABLE "Sales"."Order Lines" ("Order Id" int, "Line" int, "Qty" int, PRIMARY KEY ("Order Id", "Line"));
        INSERT INTO "Sales"."Order Lines" SELECT g / 10, g % 10, g FROM generate_series(1, 500) g;
        """;

    private static readonly Table[] Tables =
    [
        new("events", "region, id"), new("evolved", "id"), new("gen", "id"), new("seats", "id"),
    ];

    private const string OrderLinesChecksum =
        "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY \"Order Id\", \"Line\"), '')) FROM \"Sales\".\"Order Lines\" t";

    [Fact]
    public async Task Every_shape_is_bootstrapped_and_follows_inserts_updates_and_deletes_upstream()
    {
        await using var production = await ProductionCluster.StartAsync("daemon-shapes");
        await using var local = await LocalCluster.StartAsync("daemon-shapes");
        await production.ExecuteAsync(ProductionDdl);
        await production.TakeBaseBackupAsync(BaseBackupFormat.Tar);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(LocalDdl);

        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        var added = await CliRunner.RunAsync(config, "add-tables", "events, evolved gen,seats", "\"Sales\".\"Order Lines\"");
        Assert.True(added.ExitCode == 0, added.Error);
        await using var daemon = await DaemonRun.StartAsync(config, local);
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(180));
        await WaitOrderLinesAsync(production, local, daemon);

        foreach (var statement in new[]
        {
            // Rows move between partitions (list and the two-level hash default) and stay in theirs.
            "UPDATE events SET region = 'us' WHERE region = 'eu' AND id % 3 = 0",
            "UPDATE events SET region = 'jp', amount = -amount WHERE region = 'us' AND id % 5 = 0",
            "UPDATE events SET note = 'kept' WHERE id % 7 = 0",
            "DELETE FROM events WHERE id % 11 = 0",
            "INSERT INTO events SELECT (ARRAY['eu', 'us', 'cn'])[1 + g % 3], g, 'late', g FROM generate_series(5001, 5600) g",
            // Rows from before the added columns and the dropped one, updated (key too) and deleted.
            "UPDATE evolved SET a = 'updated' WHERE id % 3 = 0",
            "UPDATE evolved SET id = id + 1000 WHERE id % 17 = 0 AND id <= 300",
            "DELETE FROM evolved WHERE id % 5 = 0",
            "INSERT INTO evolved (id, a) VALUES (5000, 'after')",
            // Identity values come from production; the generated column is computed locally.
            "INSERT INTO gen (qty, price) SELECT g, 2 FROM generate_series(1, 50) g",
            "UPDATE gen SET qty = qty + 1 WHERE id % 3 = 0",
            "DELETE FROM gen WHERE id % 9 = 0",
            // Two rows exchange a unique value, two others their keys, in one transaction each.
            "BEGIN; UPDATE seats SET seat = 'tmp' WHERE id = 1; UPDATE seats SET seat = 'S1', holder = 'swapped' WHERE id = 2; UPDATE seats SET seat = 'S2' WHERE id = 1; COMMIT;",
            "BEGIN; UPDATE seats SET id = -1 WHERE id = 3; UPDATE seats SET id = 3 WHERE id = 4; UPDATE seats SET id = 4 WHERE id = -1; COMMIT;",
            "UPDATE \"Sales\".\"Order Lines\" SET \"Qty\" = -\"Qty\" WHERE \"Line\" = 3",
            "UPDATE \"Sales\".\"Order Lines\" SET \"Line\" = \"Line\" + 100 WHERE \"Line\" = 4",
            "DELETE FROM \"Sales\".\"Order Lines\" WHERE \"Line\" = 5",
        })
        {
            await production.ExecuteAsync(statement);
        }

        await production.SwitchSegmentAndWaitArchivedAsync();
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(180));
        await WaitOrderLinesAsync(production, local, daemon);
        Assert.Equal("S2", await local.QueryScalarAsync<string>("SELECT seat FROM seats WHERE id = 1"));
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
        await daemon.StopAsync();
    }

    private static async Task WaitOrderLinesAsync(ProductionCluster production, LocalCluster local, DaemonRun daemon)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (await production.QueryScalarAsync<string>(OrderLinesChecksum) != await local.QueryScalarAsync<string>(OrderLinesChecksum))
        {
            Assert.True(DateTime.UtcNow < deadline, "\"Sales\".\"Order Lines\" is not identical to production" + daemon.LogTail());
            await Task.Delay(500);
        }
    }
}
