using System.Globalization;
using DataSync.Core.Archive;
using DataSync.Core.Status;
using DataSync.Wal;
using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>
/// Where the stream stands as its last run recorded it, for <c>status --verbose</c> and the spool warning: the
/// restart point and its segment file (the archive must keep it and every later one), the newest segment read,
/// and the open production transaction that holds the restart point back, with what the WAL tells of its age.
/// </summary>
public sealed record StreamStanding(
    Lsn RestartLsn,
    string? RestartSegment,
    string? LastSegment,
    long? OldestXid,
    Lsn? OldestLsn,
    string? OldestSegment,
    DateTimeOffset? OldestOpenBy,
    DateTimeOffset? WalTime)
{
    /// <summary>The stream's row; null before the first bootstrap made one.</summary>
    public static async Task<StreamStanding?> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT restart_lsn, restart_segment, last_segment, oldest_xid, oldest_lsn, oldest_segment, oldest_open_by, wal_time
            FROM datasync_stream
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
        return new StreamStanding(
            reader.GetLsn(0),
            reader.IsDBNull(1) ? null : reader.GetString(1),
            reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetInt64(3),
            reader.GetLsnOrNull(4),
            reader.IsDBNull(5) ? null : reader.GetString(5),
            reader.IsDBNull(6) ? null : Utc(reader.GetDateTime(6)),
            reader.IsDBNull(7) ? null : Utc(reader.GetDateTime(7)));
    }

    /// <summary>The segment file the restart point lies in (the first one the archive must keep), or "-".</summary>
    public string RestartFile => RestartSegment ?? "-";

    /// <summary>
    /// "xid N since LSN L (archive file F), begun by T, open at least D as the WAL tells": the transaction that holds
    /// the restart point, or null when none is open.
    /// </summary>
    public string? OldestOpenText()
    {
        if (OldestXid is not { } xid) return null;
        var text = $"xid {xid} since {OldestLsn} (archive file {OldestSegment ?? "-"})";
        if (OldestOpenBy is not { } by || OldestOpenAtLeast is not { } age) return text + ", no commit seen after its first record yet to tell its age";
        return text + $", begun by {StatusReport.Format(by)} (production's clock), open at least {Duration(age)} by the newest commit in the WAL ({StatusReport.Format(WalTime ?? by)})";
    }

    /// <summary>How long the transaction holding the restart point has been open at least, by the newest commit in the WAL; null when none is open or its age is not known yet.</summary>
    public TimeSpan? OldestOpenAtLeast => OldestXid is null || OldestOpenBy is not { } by ? null : (WalTime ?? by) - by;

    /// <summary>The <c>status --verbose</c> lines about the stream and the spool folder <paramref name="spoolDirectory"/>.</summary>
    public IReadOnlyList<string> StatusLines(string spoolDirectory, int spoolWarnMb) =>
    [
        $"stream: restart point {RestartLsn} (archive file {RestartFile}; keep the archive from it on), last archive file read {LastSegment ?? "-"}",
        $"oldest open transaction: {OldestOpenText() ?? "none"}",
        SpoolLine(WalSpool.UsageOf(spoolDirectory), KeptForRestart(spoolDirectory), spoolWarnMb),
    ];

    /// <summary>
    /// The spooled segments the stream has decoded and keeps because its restart point is at or before them: what a
    /// long-open production transaction makes grow. The newest segment, kept to fetch on from, is not among them once read past.
    /// </summary>
    public SpoolUsage KeptForRestart(string spoolDirectory) =>
        LastSegment is null || RestartSegment is null ? new SpoolUsage(0, 0) : WalSpool.UsageOf(spoolDirectory, LastSegment, RestartSegment);

    /// <summary>"spool: all of it; already decoded and kept for the restart point: that part (the bound applies to it)".</summary>
    public static string SpoolLine(SpoolUsage all, SpoolUsage decoded, int spoolWarnMb) =>
        string.Create(CultureInfo.InvariantCulture,
            $"spool: {all.Segments} segment(s), {all.MiB} MiB; decoded and kept for the restart point: {decoded.Segments} segment(s), {decoded.MiB} MiB " +
            $"(warning above SPOOL_WARN_MB {(spoolWarnMb == 0 ? "off" : spoolWarnMb.ToString(CultureInfo.InvariantCulture))})");

    private static DateTimeOffset Utc(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Utc));

    /// <summary>"3d 04h 05m 06s", "04h 05m 06s" or "42 s".</summary>
    public static string Duration(TimeSpan span)
    {
        if (span < TimeSpan.Zero) span = TimeSpan.Zero;
        return span.TotalDays >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalDays}d {span.Hours:D2}h {span.Minutes:D2}m {span.Seconds:D2}s")
            : span.TotalMinutes >= 1
                ? string.Create(CultureInfo.InvariantCulture, $"{span.Hours:D2}h {span.Minutes:D2}m {span.Seconds:D2}s")
                : string.Create(CultureInfo.InvariantCulture, $"{(long)span.TotalSeconds} s");
    }
}
