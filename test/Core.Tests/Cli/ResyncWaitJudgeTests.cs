using DataSync.Cli.Commands;
using DataSync.Messages.Control;

namespace DataSync.Core.Tests.Cli;

/// <summary>When <c>resync --wait</c> stops following, and with which last line and exit code.</summary>
public sealed class ResyncWaitJudgeTests
{
    private static readonly DateTimeOffset Requested = new(2026, 12, 6, 7, 0, 0, TimeSpan.Zero);

    private static BootstrapTableStanding Standing(string state, string? detail = null, bool? failed = null, DateTimeOffset? at = null, long? rows = null, long? ms = null) =>
        new("public.t", state, detail, failed, failed is null ? null : "the restore did not start", at, rows, ms);

    private static (int, string)? Judge(params BootstrapTableStanding[] tables) => ResyncWait.Judge("resync public.t", new BootstrapProgressReply(tables, null), Requested);

    [Fact]
    public void Every_table_syncing_again_is_done_with_its_copied_rows()
    {
        Assert.Equal((0, "resync public.t: done, synced again (public.t: 1,234 rows copied in 3s)"), Judge(Standing("syncing", rows: 1_234, ms: 2_500)));
        Assert.Null(Judge(Standing("syncing", rows: 1), Standing("resync-requested") with { Table = "public.u" }));
    }

    [Fact]
    public void A_refused_paused_or_cleared_table_fails_with_its_detail()
    {
        Assert.Equal((1, "resync of public.t failed: production has no such table"), Judge(Standing("failed", "production has no such table")));
        Assert.Equal((1, "resync of public.t failed: the table is cleared"), Judge(Standing("cleared")));
    }

    [Fact]
    public void A_failed_attempt_counts_only_when_it_ended_after_the_request_and_a_wait_is_followed_on()
    {
        Assert.Equal((1, "resync of public.t failed: the restore did not start (the daemon retries it by itself; see datasync status --verbose)"),
            Judge(Standing("resync-requested", failed: true, at: Requested.AddSeconds(5))));
        Assert.Null(Judge(Standing("resync-requested", failed: true, at: Requested.AddSeconds(-5))));
        Assert.Null(Judge(Standing("resync-requested", failed: false, at: Requested.AddSeconds(5))));
    }
}
