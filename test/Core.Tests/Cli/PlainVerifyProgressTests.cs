using DataSync.Cli.Verify;
using DataSync.Core.Verify;

namespace DataSync.Core.Tests.Cli;

/// <summary>Verify's plain progress lines: one at each phase change, then at most one every five seconds, with rows and rate.</summary>
public sealed class PlainVerifyProgressTests
{
    [Fact]
    public void Shows_each_phase_change_and_then_one_line_every_five_seconds()
    {
        var clock = new ManualClock();
        var output = new StringWriter();
        var progress = new PlainVerifyProgress(output, clock);
        progress.Report(new VerifyProgress("public.t", VerifyPhase.Restoring, "replayed up to 0/3000000 of 0/4000000", 0, TimeSpan.FromSeconds(1)));
        clock.Advance(TimeSpan.FromSeconds(1));
        progress.Report(new VerifyProgress("public.t", VerifyPhase.Restoring, "replayed up to 0/3800000 of 0/4000000", 0, TimeSpan.FromSeconds(2)));
        progress.Report(new VerifyProgress("public.t", VerifyPhase.Comparing, null, 0, TimeSpan.FromSeconds(2)));
        clock.Advance(TimeSpan.FromSeconds(4));
        progress.Report(new VerifyProgress("public.t", VerifyPhase.Comparing, null, 10_000, TimeSpan.FromSeconds(6)));
        clock.Advance(TimeSpan.FromSeconds(1));
        progress.Report(new VerifyProgress("public.t", VerifyPhase.Comparing, null, 16_000, TimeSpan.FromSeconds(8)));
        progress.Report(new VerifyProgress("public.t", VerifyPhase.Done, "identical", 20_000, TimeSpan.FromSeconds(10)));

        Assert.Equal(
        [
            "datasync: verify public.t: restoring: replayed up to 0/3000000 of 0/4000000, 1.0 s",
            "datasync: verify public.t: comparing, 2.0 s",
            "datasync: verify public.t: comparing, 16000 rows compared (2000 rows/s), 8.0 s",
            "datasync: verify public.t: done: identical, 20000 rows compared (2000 rows/s), 10.0 s",
        ], output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')));
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 12, 6, 7, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
