using System.Text;
using DataSync.Core.Tests.Cli;
using DataSync.Embedded;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// PostGIS values through the daemon, as far as the embedded PostgreSQL 18 allows: both sides have the stand-in extension
/// postgis (<see cref="PostgisStandIn"/>), whose types store PostGIS's serialized bytes as given and receive whatever bytes
/// they are sent. Production holds the values captured from a real PostGIS (the fixture of the Wal tests); every row that
/// reaches the local table through the WAL must hold exactly PostGIS's send form of its value, TOASTed values left
/// unchanged by an update included. (The bootstrap copies with the servers' own COPY, so its row holds the stand-in's
/// send form: the serialized bytes.)
/// </summary>
public sealed class DaemonPostgisTests
{
    private const string Ddl = "CREATE TABLE geo (id int PRIMARY KEY, note text, g geometry, gg geography); " +
                               "ALTER TABLE geo ALTER COLUMN gg SET STORAGE EXTERNAL;";

    [Fact]
    public async Task Postgis_values_arrive_as_postgis_sends_them()
    {
        var values = LoadFixture();
        await using var production = await ProductionCluster.StartAsync("accept-postgis");
        await using var local = await LocalCluster.StartAsync("accept-postgis");
        await production.ExecuteAsync(PostgisStandIn.CreateSql + Ddl + $"INSERT INTO geo VALUES (-1, 'bootstrapped', {Literal(values[23].Datum)}, NULL);");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Tar);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(PostgisStandIn.CreateSql + Ddl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        var added = await CliRunner.RunAsync(config, "add-tables", "geo");
        Assert.True(added.ExitCode == 0, added.Error + added.Out);
        await using var daemon = await DaemonRun.StartAsync(config, local);
        // The rows below must come through the WAL, not with the bootstrap's copy: wait until the copy is in.
        var copied = DateTime.UtcNow.AddSeconds(120);
        while ((await LocalRowsAsync(local)).Count == 0 && DateTime.UtcNow < copied) await Task.Delay(500);
        Assert.Single(await LocalRowsAsync(local));

        var expected = new SortedDictionary<int, string> { [-1] = Row(-1, "bootstrapped", values[23].Datum, null) };
        var inserts = new StringBuilder();
        for (var i = 0; i < values.Count; i++)
        {
            var (type, datum, send) = values[i];
            var literal = send is null ? "NULL" : Literal(datum);
            inserts.Append($"INSERT INTO geo VALUES ({i}, 'inserted', {(type == "geometry" ? $"{literal}, NULL" : $"NULL, {literal}")});");
            expected[i] = type == "geometry" ? Row(i, "changed", send, null) : Row(i, "changed", null, send);
        }

        await production.ExecuteAsync(inserts.ToString());
        // Unchanged TOAST: the large geography stays behind while the note changes; then values replaced and a row deleted.
        await production.ExecuteAsync("UPDATE geo SET note = 'changed' WHERE id >= 0");
        await production.ExecuteAsync($"UPDATE geo SET g = {Literal(values[50].Datum)} WHERE id = 0");
        expected[0] = Row(0, "changed", values[50].Send, null);
        await production.ExecuteAsync("DELETE FROM geo WHERE id = 1");
        expected.Remove(1);
        await production.SwitchSegmentAndWaitArchivedAsync();

        var want = expected.Values.ToList();
        var have = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            have = await LocalRowsAsync(local);
            if (have.SequenceEqual(want)) break;
            await Task.Delay(1000);
        }

        Assert.Equal(want, have);
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
        await daemon.StopAsync();
    }

    private static string Literal(byte[] datum) => $"'\\x{Convert.ToHexString(datum)}'";

    private static string Row(int id, string note, byte[]? geometry, byte[]? geography) =>
        $"{id}|{note}|{(geometry is null ? "" : Convert.ToHexString(geometry))}|{(geography is null ? "" : Convert.ToHexString(geography))}";

    private static async Task<List<string>> LocalRowsAsync(LocalCluster local)
    {
        await using var connection = await local.Server.OpenAsync(EmbeddedLocal.Database);
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT id || '|' || note || '|' || upper(coalesce(encode(geometry_send(g), 'hex'), '')) || '|' || " +
            "upper(coalesce(encode(geography_send(gg), 'hex'), '')) FROM geo ORDER BY id", connection);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }

    /// <summary>The captured values (type, detoasted serialized bytes, send bytes or null for NULL) from the Wal tests' fixture.</summary>
    private static List<(string Type, byte[] Datum, byte[]? Send)> LoadFixture()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "postgis.tsv");
        return File.ReadLines(path).Where(line => !line.StartsWith('#')).Select(line => line.Split('\t'))
            .Select(f => (f[1], Convert.FromHexString(f[4]), f[5] == "-" ? null : Convert.FromHexString(f[5]))).ToList();
    }
}
