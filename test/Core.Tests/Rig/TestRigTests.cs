using System.Buffers.Binary;
using System.Formats.Tar;
using DataSync.Core.Embedded;
using DataSync.Embedded;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Core.Tests.Rig;

/// <summary>The rig every integration test stands on: real 18.1 servers, real archives, real backups.</summary>
public sealed class TestRigTests
{
    [Fact]
    public async Task Production_cluster_archives_real_segments()
    {
        await using var production = await ProductionCluster.StartAsync(nameof(Production_cluster_archives_real_segments));
        Assert.Equal("logical", await production.QueryScalarAsync<string>("SHOW wal_level"));
        Assert.Equal("18.1", (await production.QueryScalarAsync<string>("SHOW server_version")).Split(' ')[0]);
        await production.ExecuteAsync("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 1000) g");

        var segment = await production.SwitchSegmentAndWaitArchivedAsync();

        var path = Path.Combine(production.ArchiveDirectory, segment);
        var bytes = await File.ReadAllBytesAsync(path);
        Assert.Equal(16 * 1024 * 1024, bytes.Length);
        Assert.Equal(0xD118, BinaryPrimitives.ReadUInt16LittleEndian(bytes));
        Assert.Contains(path, production.ArchivedSegments());
    }

    [Fact]
    public async Task Production_cluster_takes_the_shape_it_is_given()
    {
        var shape = new ProductionShape { Superuser = "admin", Database = "Analytics Prod", WalSegmentSizeMb = 64, DataChecksums = false, Encoding = "LATIN1" };
        await using var production = await ProductionCluster.StartAsync(nameof(Production_cluster_takes_the_shape_it_is_given), shape: shape);
        Assert.Equal("admin", await production.QueryScalarAsync<string>("SELECT current_user::text"));
        Assert.Equal("Analytics Prod", await production.QueryScalarAsync<string>("SELECT current_database()::text"));
        Assert.Equal("64MB", await production.QueryScalarAsync<string>("SHOW wal_segment_size"));
        Assert.Equal("off", await production.QueryScalarAsync<string>("SHOW data_checksums"));
        Assert.Equal("LATIN1", await production.QueryScalarAsync<string>("SELECT pg_encoding_to_char(encoding)::text FROM pg_database WHERE datname = current_database()"));
        Assert.False(await production.QueryScalarAsync<bool>("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = 'postgres')"));

        await production.ExecuteAsync("CREATE TABLE t (id int PRIMARY KEY)");
        var segment = await production.SwitchSegmentAndWaitArchivedAsync();
        Assert.Equal(64L * 1024 * 1024, new FileInfo(Path.Combine(production.ArchiveDirectory, segment)).Length);
    }

    [Fact]
    public async Task Plain_base_backup_restores_to_the_production_contents()
    {
        await using var production = await ProductionCluster.StartAsync(nameof(Plain_base_backup_restores_to_the_production_contents));
        await production.ExecuteAsync("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 500) g");
        var backup = await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        // Written after the backup: only WAL replay from the archive can bring these rows back.
        await production.ExecuteAsync("INSERT INTO t SELECT g, md5(g::text) FROM generate_series(501, 800) g");
        await production.SwitchSegmentAndWaitArchivedAsync();
        var expected = await production.QueryScalarAsync<string>("SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM t");

        var label = await File.ReadAllTextAsync(Path.Combine(backup.Directory, "backup_label"));
        Assert.Contains("START WAL LOCATION: " + backup.StartLsn, label);
        Assert.Equal("18", (await File.ReadAllTextAsync(Path.Combine(backup.Directory, "PG_VERSION"))).Trim());

        var (binaries, account) = await TestPostgres.GetAsync();
        var root = TestPostgres.NewClusterRoot("restore");
        try
        {
            var data = Path.Combine(root, "data");
            await ProcessRunner.RunCheckedAsync("cp", ["-a", backup.Directory, data]);
            await File.WriteAllTextAsync(Path.Combine(data, "recovery.signal"), "");
            await using var restored = new PostgresServer(new PostgresServerOptions
            {
                Binaries = binaries,
                Account = account,
                DataDirectory = data,
                Port = PostgresServer.FindFreePort(),
                Settings = new Dictionary<string, string>
                {
                    ["restore_command"] = PostgresServer.Quote($"cp {production.ArchiveDirectory}/%f %p"),
                    ["archive_mode"] = "off",
                },
            });
            await restored.WriteSettingsAsync();
            await account.TakeOwnershipAsync(root);
            await ProcessRunner.RunCheckedAsync("chmod", ["0700", data]);
            await restored.StartAsync();

            // Recovery ends (and the server promotes) once the archive has nothing more.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (await restored.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()"))
            {
                Assert.True(DateTime.UtcNow < deadline, "restore did not finish recovery: " + restored.TailOfLog());
                await Task.Delay(100);
            }

            Assert.Equal(expected, await restored.QueryScalarAsync<string>("SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM t", ProductionCluster.Database));
            Assert.Equal(800L, await restored.QueryScalarAsync<long>("SELECT count(*) FROM t", ProductionCluster.Database));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Tar_base_backup_holds_the_label_and_the_data_directory()
    {
        await using var production = await ProductionCluster.StartAsync(nameof(Tar_base_backup_holds_the_label_and_the_data_directory));
        var backup = await production.TakeBaseBackupAsync(BaseBackupFormat.Tar);

        var names = new List<string>();
        string? label = null;
        await using (var tar = new TarReader(File.OpenRead(Path.Combine(backup.Directory, "base.tar"))))
        {
            while (await tar.GetNextEntryAsync() is { } entry)
            {
                names.Add(entry.Name.TrimStart('.', '/'));
                if (entry.Name.TrimStart('.', '/') == "backup_label")
                    label = await new StreamReader(entry.DataStream!).ReadToEndAsync();
            }
        }

        Assert.Contains("PG_VERSION", names);
        Assert.Contains(names, n => n.StartsWith("global/pg_control", StringComparison.Ordinal));
        Assert.DoesNotContain(names, n => n == "postmaster.pid");
        Assert.NotNull(label);
        Assert.Contains("START WAL LOCATION: " + backup.StartLsn, label);
        Assert.Contains("BACKUP METHOD: streamed", label);
    }

    [Fact]
    public async Task Local_cluster_demands_the_password()
    {
        await using var local = await LocalCluster.StartAsync(nameof(Local_cluster_demands_the_password));
        Assert.Equal(1, await local.QueryScalarAsync<int>("SELECT 1"));
        Assert.Equal("scram-sha-256", await local.QueryScalarAsync<string>("SHOW password_encryption"));

        var wrong = new NpgsqlConnectionStringBuilder(local.ConnectionString) { Password = "not-the-password" };
        await using var connection = new NpgsqlConnection(wrong.ConnectionString);
        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync());
        Assert.Equal(PostgresErrorCodes.InvalidPassword, error.SqlState);
    }
}
