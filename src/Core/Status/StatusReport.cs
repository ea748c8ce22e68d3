using System.Globalization;
using System.Text;

namespace DataSync.Core.Status;

/// <summary>
/// What <c>datasync status</c> prints: the spec's five lines in the spec's order, then uptime and the
/// last successful sync, and a <c>bootstrap:</c> line while a bootstrap waits or fails. Built from the daemon's answer when it runs, from the database otherwise.
/// </summary>
public sealed record StatusReport(
    bool Active,
    int SyncFrequencySeconds,
    DateTimeOffset? StartTime,
    long RecordsSynced,
    long Errors,
    DateTimeOffset? LastSuccessfulSync,
    DateTimeOffset Now)
{
    /// <summary>Why a bootstrap waits or fails, with its tables (a line after the others); null when none does.</summary>
    public string? Bootstrap { get; init; }

    /// <summary>Why the local database could not be read (the last successful sync is then unknown, not "never"); null when it could.</summary>
    public string? LocalDatabaseProblem { get; init; }

    /// <summary>What the local database refuses that <c>datasync start</c> needs (it could be read); null when nothing.</summary>
    public string? StartProblem { get; init; }

    public string Render()
    {
        var text = new StringBuilder();
        text.Append("status: ").AppendLine(Active ? "active" : "not-started");
        text.Append("sync frequency: ").AppendLine(SyncFrequencySeconds.ToString(CultureInfo.InvariantCulture));
        text.Append("start time: ").AppendLine(Active && StartTime is { } start ? Format(start) : "");
        text.Append("records synced: ").AppendLine(RecordsSynced.ToString(CultureInfo.InvariantCulture));
        text.Append("errors: ").AppendLine(Errors.ToString(CultureInfo.InvariantCulture));
        text.Append("uptime: ").AppendLine(Active && StartTime is { } since ? FormatDuration(Now - since) : "");
        text.Append("last successful sync: ").AppendLine(
            LastSuccessfulSync is { } last ? Format(last) : LocalDatabaseProblem is null ? "never" : "unknown (the local database is unreachable)");
        if (Bootstrap is not null) text.Append("bootstrap: ").AppendLine(Bootstrap);
        if (LocalDatabaseProblem is not null) text.Append("local database: ").AppendLine(LocalDatabaseProblem);
        if (StartProblem is not null) text.Append("local database: ").AppendLine(StartProblem);
        return text.ToString();
    }

    /// <summary>A time as status prints it: "2026-12-05 21:04:10 UTC".</summary>
    public static string Format(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    private static string FormatDuration(TimeSpan span) =>
        span.TotalDays >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalDays}d {span.Hours:D2}h {span.Minutes:D2}m {span.Seconds:D2}s")
            : string.Create(CultureInfo.InvariantCulture, $"{span.Hours:D2}h {span.Minutes:D2}m {span.Seconds:D2}s");
}
