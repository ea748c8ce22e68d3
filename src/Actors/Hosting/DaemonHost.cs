using System.Net;
using System.Net.Sockets;
using Akka.Hosting;
using Akka.Logger.Serilog;
using Akka.Remote.Hosting;
using Akka.Pattern;
using DataSync.Actors.Control;
using DataSync.Actors.Pipeline;
using DataSync.Actors.Serialization;
using DataSync.Actors.Sync;
using DataSync.Core.Apply;
using DataSync.Core.Archive;
using DataSync.Core.Bootstrap;
using DataSync.Core.Embedded;
using DataSync.Core.IO;
using DataSync.Core.Sync;
using DataSync.Core.Verify;
using DataSync.Actors.Daemon;
using DataSync.Core.Configuration;
using DataSync.Core.Local;
using DataSync.Core.Schema;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Serilog;

namespace DataSync.Actors.Hosting;

/// <summary>
/// The daemon's lifecycle (<c>datasync start --foreground</c>): migrate the local schema, take the
/// one-daemon-per-database lock, publish the control token, run the actor system on loopback
/// remoting until SIGTERM, <c>datasync stop</c> or a fatal error, then clean up.
/// </summary>
public static class DaemonHost
{
    public const string ActorSystemName = "datasync";

    /// <param name="settings">The loaded configuration.</param>
    /// <param name="console">Whether the log also goes to the console (the foreground); a detached daemon's
    /// console is STATE_DIR/logs/daemon.out, kept for what happens before the log exists.</param>
    /// <param name="cancellationToken">SIGTERM or Ctrl+C: a graceful stop.</param>
    public static async Task RunAsync(DataSyncSettings settings, bool console, CancellationToken cancellationToken)
    {
        // STATE_DIR is made private before the log, the token or anything else is written into it.
        var timeline = new StartupTimeline();
        var repairs = await StateDirectory.SecureAsync(settings.StateDir, StateDirectory.AccountFor(settings.PgOsUser), cancellationToken).ConfigureAwait(false);
        // A restarted daemon's backlog starts moving now, from what the spool says, while the rest starts, the log included.
        var arrivals = new SegmentArrivals();
        var firstSegment = new FirstSegmentNote(timeline);
        Action<string> landed = segment =>
        {
            firstSegment.Landed(segment);
            arrivals.Arrived();
        };
        var prefetch = SpoolPrefetch.Start(settings, SyncOptions.SpoolDirectoryOf(settings), landed);
        try
        {
            Log.Logger = DaemonLog.Create(settings.StateDir, console);
            firstSegment.LogReady();
            foreach (var repair in repairs) Log.Warning("{Repair}", repair);
            await RunLoggedAsync(settings, timeline, new FirstFetch(arrivals, landed, prefetch), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The caller prints the one line that says what failed; the stack trace is for the file log alone.
            Log.ForContext(DaemonLog.FileOnly, true).Error(e, "datasync daemon failed: {Message}", e.Message);
            throw;
        }
        finally
        {
            await prefetch.StopAsync().ConfigureAwait(false);
            await Log.CloseAndFlushAsync().ConfigureAwait(false);
        }
    }

    /// <summary>What the daemon's first fetch needs from before the local database is reached.</summary>
    private sealed record FirstFetch(SegmentArrivals Arrivals, Action<string> Landed, SpoolPrefetch Prefetch);

    private static async Task RunLoggedAsync(DataSyncSettings settings, StartupTimeline timeline, FirstFetch first, CancellationToken cancellationToken)
    {
        Log.Information("datasync daemon starting (pid {Pid}); local database {Database}; archive {Archive}; state {State}",
            Environment.ProcessId, LocalDatabase.Describe(settings), settings.ArchiveDir, settings.StateDir);
        EnsureControlPortFree(settings.ControlPort);
        // Checked before anything starts: a bad value is a start-up error, not a supervisor that never comes up.
        var hocon = DataSyncHocon.Load();
        var decoders = SyncSupervisor.WalDecoderCount(
            Environment.GetEnvironmentVariable("DATASYNC_WAL_DECODERS") ?? hocon.GetString("datasync.wal-decoders", "auto"), Environment.ProcessorCount);
        timeline.Mark("log and state folder");
        // The actor system starts beside what follows and gets its actors once the lock is held; whatever ends the run
        // stops it before the parts made below are let go.
        await using var actors = ActorHostStart.Begin(settings, hocon, cancellationToken);

        // `postgres --version` runs while the local database is reached: neither waits for the other.
        var resolvingBinaries = PostgresBinaries.ResolveAsync(settings.PgBinDir, cancellationToken);
        await using var dataSource = LocalDatabase.CreateDataSource(settings, "datasync-daemon");
        await new SchemaMigrator(dataSource).MigrateAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        timeline.Mark("local database connected and migrated");
        await using var daemonLock = await DaemonLock.TryAcquireAsync(dataSource, cancellationToken).ConfigureAwait(false);
        if (daemonLock is null)
        {
            var holder = await DaemonRegistration.ReadAsync(dataSource, cancellationToken).ConfigureAwait(false);
            throw new DaemonStartException(
                $"another datasync daemon is already running against {LocalDatabase.Describe(settings)}" +
                (holder is null ? "" : $" (pid {holder.ProcessId} on {holder.Host}, started {holder.StartedAt:u})") +
                "; stop it with 'datasync stop' first");
        }

        // Told at start, not at the first batch: the local user must be allowed the apply session's replica role.
        await (await ApplySession.OpenAsync(dataSource, settings, cancellationToken).ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        var counters = new DaemonCounters(DateTimeOffset.UtcNow);
        await DaemonRegistration.RegisterAsync(dataSource, settings.ControlPort, counters.StartTime, cancellationToken).ConfigureAwait(false);
        var token = ControlToken.Create(settings.StateDir);
        timeline.Mark("daemon lock, apply session check, registration");
        try
        {
            await RunWithTokenAsync(settings, dataSource, daemonLock, counters, token, resolvingBinaries, timeline, first, actors, decoders, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Whatever ended the run, a start that failed after this point included: no token is left for the CLI to try.
            ControlToken.Delete(settings.StateDir);
            try
            {
                await DaemonRegistration.MarkStoppedAsync(dataSource, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or SocketException)
            {
                Log.Warning("could not record the stop in the local database: {Message}", e.Message);
            }

            Log.Information("datasync daemon stopped (pid {Pid})", Environment.ProcessId);
        }
    }

    private static async Task RunWithTokenAsync(DataSyncSettings settings, NpgsqlDataSource dataSource, DaemonLock daemonLock, DaemonCounters counters, string token,
        Task<PostgresBinaries> resolvingBinaries, StartupTimeline timeline, FirstFetch first, ActorHostStart actors, int decoders, CancellationToken cancellationToken)
    {
        var binaries = await resolvingBinaries.ConfigureAwait(false);
        var account = ServerAccount.For(settings.PgOsUser);
        var sftpNotices = new Progress<string>(line => Log.Warning("{Sftp}", line));
        await using var archive = ArchiveSources.Create(settings, sftpNotices);
        await using var baseBackups = BaseBackupSources.Create(settings, sftpNotices);
        var syncOptions = new SyncOptions
        {
            Settings = settings,
            Archive = archive,
            BaseBackups = baseBackups,
            Binaries = binaries,
            Account = account,
            Progress = new Progress<string>(line => Log.Information("{Progress}", line)),
        };
        syncOptions = await syncOptions.WithSegmentSizeAsync(cancellationToken).ConfigureAwait(false);

        // The lock is held, so the spool is ours: the fetch from the spool alone stops (its half-written copy is cleared
        // with the spool's opening) and the regular one goes on from there while the rest starts.
        await first.Prefetch.StopAsync().ConfigureAwait(false);
        var parts = new SyncParts(syncOptions, dataSource);
        var handler = new ControlCommandHandler(settings, dataSource, counters, parts.Bootstrapper.LiveProgress);
        // A verify that a stop or a crash cut short left its table held: it resumes now, before the stream's first pass.
        var verifier = new TableVerifier(syncOptions, dataSource, parts.Fetcher, holdTables: true);
        foreach (var released in await verifier.ReleaseLeftHoldsAsync(cancellationToken).ConfigureAwait(false))
            Log.Warning("released {Table}, which a verify cut short by the last stop left held at its checkpoint; it syncs on from there", released);
        // Disposed (waited for) before the archive source above: nothing may still write into the spool once it is gone.
        await using var early = EarlyFetch.Start(parts, first.Landed);
        timeline.Mark("binaries, segment size, first fetch started");

        // A restore is a full copy of production: what an earlier run left is removed now, and said so.
        foreach (var removed in await TemporaryRestore.RemoveLeftoversAsync(settings.StateDir, binaries, account).ConfigureAwait(false))
            Log.Warning("removed {Folder}, a temporary restore (a copy of production) left by an earlier run", removed);
        var restores = TemporaryRestore.RestoresFolder(settings.StateDir);
        foreach (var left in Directory.Exists(restores) ? Directory.EnumerateDirectories(restores) : [])
            Log.Warning("could not remove {Folder}, a temporary restore (a copy of production) left by an earlier run; remove it by hand", left);

        // Copies end with the daemon's stop, restores and all, before it exits: the first one, and those asked for while the
        // daemon runs (a resync, a table added).
        await using var bootstraps = new RunningBootstraps();

        // Tables that need a copy start it now (restoring the base backup needs neither the host nor the actor system);
        // the bootstrapper's first attempt takes its outcome.
        var earlyBootstrap = EarlyBootstrap.Start(parts.Bootstrapper, dataSource, bootstraps,
            tables => Log.Information("bootstrapping {Tables} from the newest base backup, while the daemon starts", string.Join(", ", tables)));

        timeline.Mark("leftover restores");
        var (system, lifetime) = await actors.ReadyAsync().ConfigureAwait(false);
        timeline.Mark($"waited for the actor system and remoting (started beside the phases above in {StartupTimeline.Seconds(actors.StartTook)})");
        try
        {
            var sync = system.ActorOf(SyncSupervisor.Props(parts, syncOptions, dataSource, counters, decoders, first.Arrivals, early, earlyBootstrap, bootstraps), SyncSupervisor.Name);
            system.ActorOf(StopWhenTerminated.Props(sync, lifetime.StopApplication), "sync-watch");
            system.ActorOf(MetricsScheduler.Props(new MetricsAggregator(dataSource, settings.MetricFreqHours), TimeSpan.FromHours(settings.MetricFreqHours)), MetricsScheduler.Name);
            var verifies = system.ActorOf(Verifier.Props(verifier, dataSource, sync), Verifier.Name);
            system.ActorOf(ControlEndpoint.Props(handler, token, lifetime.StopApplication, sync, verifier: verifies), ControlEndpoint.Name);

            using var metrics = settings.MetricsPort is { } metricsPort ? MetricsEndpoint.Start(dataSource, counters, syncOptions.SpoolDirectory, metricsPort) : null;
            if (metrics is not null) Log.Information("metrics on http://{Host}:{Port}/metrics", MetricsEndpoint.Host, settings.MetricsPort);
            timeline.Mark("actors made");
            Log.Information("datasync daemon running (pid {Pid}); control on 127.0.0.1:{Port}; started in {Startup}", Environment.ProcessId, settings.ControlPort, timeline.Describe());
            var keeping = KeepLockAsync(settings, dataSource, daemonLock, lifetime.StopApplication, lifetime.ApplicationStopping);
            await StoppingAsync(lifetime, cancellationToken).ConfigureAwait(false);
            await keeping.ConfigureAwait(false);
        }
        finally
        {
            // Before the bootstraps, the first fetch and the archive above are let go: no actor may still use them.
            await actors.StopAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Returns once the daemon is asked to stop: SIGTERM, <c>datasync stop</c>, the supervisor's end, or <paramref name="cancellationToken"/>.</summary>
    private static async Task StoppingAsync(IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var onCancel = cancellationToken.Register(lifetime.StopApplication).ConfigureAwait(false);
        await using var onStopping = lifetime.ApplicationStopping.Register(() => stopping.TrySetResult()).ConfigureAwait(false);
        await stopping.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Takes the daemon lock again after the local server dropped it (a restart releases every session's locks):
    /// without it the CLI would see no daemon, and a second one could start. A daemon that finds another holding
    /// it by then stops: the other one is syncing.
    /// </summary>
    private static async Task KeepLockAsync(DataSyncSettings settings, NpgsqlDataSource dataSource, DaemonLock daemonLock, Action stop, CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(LockCheckInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                switch (await daemonLock.KeepAsync(dataSource, stopping).ConfigureAwait(false))
                {
                    case DaemonLockState.Regained:
                        Log.Information("the local database {Database} is back: the daemon lock is held again", LocalDatabase.Describe(settings));
                        break;
                    case DaemonLockState.Lost:
                        Log.Error("another datasync daemon took the daemon lock of {Database} while the local database was away; this daemon stops",
                            LocalDatabase.Describe(settings));
                        stop();
                        return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private static readonly TimeSpan LockCheckInterval = TimeSpan.FromSeconds(3);

    /// <summary>Fails early and clearly when the control port is taken, instead of deep inside remoting start-up.</summary>
    private static void EnsureControlPortFree(int port)
    {
        try
        {
            using var probe = new TcpListener(IPAddress.Loopback, port);
            probe.Start();
        }
        catch (SocketException e)
        {
            throw new DaemonStartException($"CONTROL_PORT {port} on 127.0.0.1 is already in use ({e.Message}); is another datasync running, or choose another CONTROL_PORT", e);
        }
    }
}
