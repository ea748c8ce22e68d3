using DataSync.Core.Configuration;
using DataSync.Core.Schema;
using DataSync.Core.Sync;
using DataSync.TestRig;
using DataSync.Wal;
using DataSync.Wal.Changes;
using Npgsql;

namespace DataSync.Core.Tests.Sync;

/// <summary>One FAILED row per distinct cause, its repeats counted; an outage of the local database is one row once it is back.</summary>
public sealed class FailureLogTests
{
    [Fact]
    public async Task A_cause_met_again_is_counted_on_its_row_and_a_success_ends_it()
    {
        await using var local = await LocalCluster.StartAsync("failure-log");
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        await new SchemaMigrator(dataSource).MigrateAsync();
        var failures = new FailureLog(dataSource, new LocalDatabaseOutage(Settings(local)));

        var decoding = new ChangeDecodingException("public.items", new Lsn(0x1234_5678), 777, "a value the decoder cannot read");
        Assert.True(await failures.ReportAsync("stream", "the stream", decoding, "do this", CancellationToken.None, lsn => $"segment of {lsn}"));
        // The same cause with other numbers (another LSN, xid) is a repeat.
        var again = new ChangeDecodingException("public.items", new Lsn(0x1234_9999), 778, "a value the decoder cannot read");
        Assert.False(await failures.ReportAsync("stream", "the stream", again, "do this", CancellationToken.None, lsn => $"segment of {lsn}"));
        Assert.Equal("* | segment of 0/12345678 | 0/12345678 | 2", await RowsAsync(local));
        var detail = await local.QueryScalarAsync<string>("SELECT error_detail FROM data_sync_logs WHERE status = 'FAILED'");
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC; table every synced table; archive file segment of 0/12345678; LSN 0/12345678: the stream failed: " +
            @"public\.items: change at LSN 0/12345678 of transaction 777: a value the decoder cannot read; do this$", detail);

        // Another cause is another row; a success of the part ends the run, so the first cause met again is a new row.
        Assert.True(await failures.ReportAsync("stream", "the stream", new IOException("disk full"), "free space", CancellationToken.None));
        Assert.Null(await failures.SucceededAsync("stream", CancellationToken.None));
        Assert.True(await failures.ReportAsync("stream", "the stream", decoding, "do this", CancellationToken.None));
        Assert.Equal(3L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));

        // A corrupt segment was logged per table where it was met: nothing more here.
        Assert.False(await failures.ReportAsync("stream", "the stream",
            new WalFormatException(WalErrorKind.BadCrc, "000000010000000000000003", 8192, new Lsn(0x3002000), "bad"), "x", CancellationToken.None));
        Assert.Equal(3L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
    }

    [Fact]
    public async Task An_outage_is_written_once_the_database_is_back_with_what_failed_meanwhile()
    {
        await using var local = await LocalCluster.StartAsync("failure-outage-log");
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        await new SchemaMigrator(dataSource).MigrateAsync();
        var failures = new FailureLog(dataSource, new LocalDatabaseOutage(Settings(local)));

        await local.Server.StopAsync();
        for (var i = 0; i < 3; i++)
        {
            var error = await Assert.ThrowsAnyAsync<Exception>(async () => await dataSource.OpenConnectionAsync());
            Assert.True(LocalDatabaseOutage.IsOutage(error), error.ToString());
            Assert.False(await failures.ReportAsync("archive", "archive pass", error, "x", CancellationToken.None));
        }

        Assert.False(await failures.ReportAsync("stream", "stream run", new AggregateException(new NpgsqlException("gone")), "x", CancellationToken.None));
        Assert.True(failures.Outage.Active);
        Assert.Null(await failures.SucceededAsync("archive", CancellationToken.None));
        Assert.True(failures.Outage.Active);

        await local.Server.StartAsync();
        var text = await failures.SucceededAsync("archive", CancellationToken.None);
        Assert.NotNull(text);
        Assert.False(failures.Outage.Active);
        Assert.Equal("* | - | - | 4", await RowsAsync(local));
        var detail = await local.QueryScalarAsync<string>("SELECT error_detail FROM data_sync_logs WHERE status = 'FAILED'");
        Assert.Contains("table every synced table; archive file -; LSN -: the local database was unreachable from ", detail);
        Assert.Contains($"the local database {LocalCluster.User}@127.0.0.1:{local.Port}/{LocalCluster.Database} is unreachable: ", detail);
        Assert.Contains("Failed meanwhile: archive pass ×3, stream run ×1.", detail);
        Assert.DoesNotContain(local.Password, detail);
        Assert.Null(await failures.SucceededAsync("stream", CancellationToken.None));

        // Errors in what was asked of a reachable server are not an outage.
        Assert.False(LocalDatabaseOutage.IsOutage(new PostgresException("value too long", "ERROR", "ERROR", "22001")));
        Assert.True(LocalDatabaseOutage.IsOutage(new PostgresException("terminating connection", "FATAL", "FATAL", "57P01")));
    }

    private static async Task<string> RowsAsync(LocalCluster local) =>
        await local.QueryScalarAsync<string>(
            "SELECT string_agg(table_name || ' | ' || coalesce(archive_ref, '-') || ' | ' || coalesce(lsn_from::text, '-') || ' | ' || occurrences, E'\\n') " +
            "FROM data_sync_logs WHERE status = 'FAILED'");

    private static DataSyncSettings Settings(LocalCluster local) => new()
    {
        PgPassword = local.Password, PgDbName = LocalCluster.Database, ArchiveDir = "/none", BaseBackupDir = "/none", StateDir = Path.Combine(local.Root, "state"),
        SshKeyFile = "/none", SshKnownHosts = "/none", PgHost = "127.0.0.1", PgPort = local.Port, PgUserName = LocalCluster.User,
    };
}
