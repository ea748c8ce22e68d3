using DataSync.Actors.Control;
using DataSync.Actors.Daemon;
using DataSync.Core.Archive;
using DataSync.Core.Bootstrap;
using DataSync.Core.Embedded;
using DataSync.Core.Sync;
using DataSync.Core.Verify;
using DataSync.Messages.Control;

namespace DataSync.Cli.Verify;

/// <summary>
/// <c>datasync verify</c> when no daemon runs: the same <see cref="VerifyJob"/> in this process, over the spool in
/// STATE_DIR. Nothing applies meanwhile, so tables are not held: their checkpoints stay where the last daemon left them.
/// The daemon lock is taken for the whole run, so a daemon cannot start (and trim the spool, or apply) under it.
/// </summary>
internal static class VerifyWithoutDaemon
{
    public static async Task<ControlReply> RunAsync(CliContext context, IReadOnlyList<string> tables, bool repair, IVerifyProgress progress, CancellationToken cancellationToken)
    {
        var settings = context.Settings;
        await using var local = await context.OpenLocalDatabaseAsync(cancellationToken).ConfigureAwait(false);
        await using var daemonLock = await DaemonLock.TryAcquireAsync(local, cancellationToken).ConfigureAwait(false);
        if (daemonLock is null)
        {
            return ControlReply.Failed(1, "a datasync daemon holds the local database but did not answer on CONTROL_PORT; " +
                "run datasync verify again once it answers (datasync status), or stop it");
        }

        var notices = new Progress<string>(line => context.Error.WriteLine($"datasync: {line}"));
        await using var archive = ArchiveSources.Create(settings, notices);
        await using var baseBackups = BaseBackupSources.Create(settings, notices);
        var options = await new SyncOptions
        {
            Settings = settings,
            Archive = archive,
            BaseBackups = baseBackups,
            Binaries = await PostgresBinaries.ResolveAsync(settings.PgBinDir, cancellationToken).ConfigureAwait(false),
            Account = ServerAccount.For(settings.PgOsUser),
        }.WithSegmentSizeAsync(cancellationToken).ConfigureAwait(false);
        var fetcher = new ArchiveFetcher(archive, new WalSpool(options.SpoolDirectory, options.SegmentSize), options.SegmentSize);
        var verifier = new TableVerifier(options, local, fetcher, holdTables: false);
        return await new VerifyJob("local").RunAsync(verifier, local, tables, repair, progress, null, cancellationToken).ConfigureAwait(false);
    }
}
