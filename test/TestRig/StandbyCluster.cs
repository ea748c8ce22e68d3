using System.Globalization;
using DataSync.Core.Embedded;
using DataSync.Embedded;

namespace DataSync.TestRig;

/// <summary>
/// A standby of a test's production cluster, as a failover setup has one: restored from one of its plain base
/// backups, recovering from its WAL archive and streaming from it, with archiving configured into the same
/// archive folder, so that once promoted it writes a new timeline there (history file, the old timeline's
/// last segment as .partial, then its own segments). It lives in the production cluster's folder, which the
/// production cluster removes; disposing stops it.
/// </summary>
public sealed class StandbyCluster : EmbeddedProduction
{
    private StandbyCluster(string root, PostgresServer server, ProductionShape shape) : base(root, server, shape)
    {
    }

    public static async Task<StandbyCluster> StartAsync(ProductionCluster production, BaseBackupInfo backup)
    {
        if (backup.Format != BaseBackupFormat.Plain) throw new ArgumentException("a standby is restored from a plain base backup", nameof(backup));
        var (binaries, account) = await TestPostgres.GetAsync().ConfigureAwait(false);
        var data = Path.Combine(production.Root, "standby");
        CopyDirectory(backup.Directory, data);
        var server = new PostgresServer(new PostgresServerOptions
        {
            Binaries = binaries,
            Account = account,
            DataDirectory = data,
            Port = PostgresServer.FindFreePort(),
            Superuser = production.Shape.Superuser,
            Settings = new Dictionary<string, string>
            {
                // The backup's postgresql.conf is production's: its archive_command already writes to the shared archive.
                ["restore_command"] = PostgresServer.Quote($"cp {production.ArchiveDirectory}/%f %p"),
                ["primary_conninfo"] = PostgresServer.Quote(string.Create(CultureInfo.InvariantCulture, $"host=127.0.0.1 port={production.Server.Port} user={production.Shape.Superuser}")),
                ["recovery_target_timeline"] = "'latest'",
                ["hot_standby"] = "on",
                ["archive_mode"] = "on",
            },
        });
        await server.WriteSettingsAsync().ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(data, "standby.signal"), "").ConfigureAwait(false);
        await account.TakeOwnershipAsync(data).ConfigureAwait(false);
        File.SetUnixFileMode(data, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var standby = new StandbyCluster(production.Root, server, production.Shape);
        try
        {
            await server.StartAsync().ConfigureAwait(false);
        }
        catch
        {
            await standby.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return standby;
    }

    /// <summary>Waits until the standby has replayed WAL up to <paramref name="lsn"/> (an LSN as PostgreSQL prints it).</summary>
    public async Task WaitReplayedAsync(string lsn, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!await Server.QueryScalarAsync<bool>($"SELECT coalesce(pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn, false)").ConfigureAwait(false))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the standby did not replay up to {lsn}; its log:\n{Server.TailOfLog()}");
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>Promotes the standby (a new timeline begins) and waits until it accepts writes.</summary>
    public async Task PromoteAsync()
    {
        if (!await Server.QueryScalarAsync<bool>("SELECT pg_promote(true, 120)").ConfigureAwait(false))
            throw new TimeoutException($"the standby was not promoted; its log:\n{Server.TailOfLog()}");
    }

    private static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.EnumerateFiles(source)) File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
        foreach (var folder in Directory.EnumerateDirectories(source)) CopyDirectory(folder, Path.Combine(destination, Path.GetFileName(folder)));
    }
}
