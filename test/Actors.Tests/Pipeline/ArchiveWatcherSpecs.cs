using System.Diagnostics;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using DataSync.Actors.Pipeline;

namespace DataSync.Actors.Tests.Pipeline;

/// <summary>
/// The watcher with a stand-in scan: it scans at start and every period, shortly after files appear in a local
/// archive folder (a burst makes one scan), never two scans at once, and a failed scan makes it throw, so its
/// backoff supervisor starts it again after the pause.
/// </summary>
public sealed class ArchiveWatcherSpecs() : TestKit("akka.actor.provider = local\nakka.loglevel = WARNING")
{
    [Fact]
    public void Scans_at_start_and_then_every_period_and_tells_the_coordinator_what_each_scan_found()
    {
        var coordinator = CreateTestProbe();
        var scans = 0;
        Sys.ActorOf(ArchiveWatcher.Props(_ => () => Task.FromResult(new SegmentsSpooled(Interlocked.Increment(ref scans), null)),
            coordinator.Ref, TimeSpan.FromMilliseconds(500), localFolder: null));

        var clock = Stopwatch.StartNew();
        Assert.Equal(new SegmentsSpooled(1, null), coordinator.ExpectMsg<SegmentsSpooled>(TimeSpan.FromSeconds(3)));
        var first = clock.Elapsed;
        Assert.Equal(new SegmentsSpooled(2, null), coordinator.ExpectMsg<SegmentsSpooled>(TimeSpan.FromSeconds(3)));
        Assert.Equal(new SegmentsSpooled(3, null), coordinator.ExpectMsg<SegmentsSpooled>(TimeSpan.FromSeconds(3)));
        // Two periods between the first scan and the third, not sooner.
        Assert.True(clock.Elapsed - first >= TimeSpan.FromMilliseconds(950), $"three scans within {(clock.Elapsed - first).TotalMilliseconds:F0} ms");
    }

    [Fact]
    public void A_burst_of_files_in_a_local_archive_folder_makes_one_scan_long_before_the_period()
    {
        var folder = Directory.CreateTempSubdirectory("datasync-watcher-").FullName;
        try
        {
            var coordinator = CreateTestProbe();
            var scans = 0;
            Sys.ActorOf(ArchiveWatcher.Props(_ => () => Task.FromResult(new SegmentsSpooled(Interlocked.Increment(ref scans), null)),
                coordinator.Ref, TimeSpan.FromHours(1), folder));
            Assert.Equal(1, coordinator.ExpectMsg<SegmentsSpooled>(TimeSpan.FromSeconds(3)).Fetched);
            coordinator.ExpectNoMsg(TimeSpan.FromMilliseconds(300));

            for (var i = 0; i < 5; i++) File.WriteAllBytes(Path.Combine(folder, $"00000001000000000000000{i}"), new byte[64]);

            Assert.Equal(2, coordinator.ExpectMsg<SegmentsSpooled>(TimeSpan.FromSeconds(5)).Fetched);
            coordinator.ExpectNoMsg(TimeSpan.FromMilliseconds(600));
            Assert.Equal(2, Volatile.Read(ref scans));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Reasons_to_scan_during_a_scan_make_one_more_scan_after_it_not_one_each()
    {
        var coordinator = CreateTestProbe();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var scans = 0;
        Sys.ActorOf(ArchiveWatcher.Props(_ => async () =>
        {
            var n = Interlocked.Increment(ref scans);
            if (n == 1) await release.Task;
            return new SegmentsSpooled(n, null);
        }, coordinator.Ref, TimeSpan.FromMilliseconds(100), localFolder: null));

        // Ten periods pass while the first scan hangs (a slow sftp server).
        await Task.Delay(1000);
        Assert.Equal(1, Volatile.Read(ref scans));
        release.SetResult();

        Assert.Equal(1, coordinator.ExpectMsg<SegmentsSpooled>().Fetched);
        Assert.Equal(2, coordinator.ExpectMsg<SegmentsSpooled>().Fetched);
        // From then on, one scan per period again: at most about 4 more in 300 ms, not the ten ticks that came during the first.
        coordinator.ReceiveWhile(TimeSpan.FromMilliseconds(300), m => m as SegmentsSpooled);
        Assert.InRange(Volatile.Read(ref scans), 2, 7);
    }

    [Fact]
    public void A_failed_scan_makes_the_watcher_throw_and_its_supervisor_starts_it_again_after_the_pause()
    {
        var coordinator = CreateTestProbe();
        var scans = 0;
        var backoff = new SupervisionBackoff(TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(5), 0.2);
        var watcher = ArchiveWatcher.Props(_ => () => Interlocked.Increment(ref scans) == 1
                ? Task.FromException<SegmentsSpooled>(new DirectoryNotFoundException("/archive is gone"))
                : Task.FromResult(new SegmentsSpooled(0, null)),
            coordinator.Ref, TimeSpan.FromHours(1), localFolder: null);
        var clock = Stopwatch.StartNew();

        Sys.ActorOf(backoff.OnFailure(watcher, ArchiveWatcher.Name));

        Assert.Equal(new SegmentsSpooled(0, null), coordinator.ExpectMsg<SegmentsSpooled>(TimeSpan.FromSeconds(5)));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(400), $"started again after {clock.ElapsedMilliseconds} ms, before the backoff's 400 ms");
        Assert.Equal(2, Volatile.Read(ref scans));
    }
}
