using System.Text.Json;
using DataSync.Cli.Progress;
using DataSync.Core.Status;
using DataSync.Messages.Control;

namespace DataSync.Cli.Commands;

/// <summary>
/// <c>status --json</c>: the facts of <c>status --verbose</c> as one JSON object on one line, for scripts. Keys are
/// snake_case and always present (null when unknown), times are ISO 8601 UTC, durations are seconds; the shape is
/// documented in docs/syncdata-agent.md.
/// </summary>
internal static class StatusJson
{
    public static string Render(StatusReport report, StatusReply? reply)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", report.Active ? "active" : "not-started");
            json.WriteNumber("sync_frequency_seconds", report.SyncFrequencySeconds);
            Time(json, "start_time", report.Active ? report.StartTime : null);
            json.WriteNumber("records_synced", report.RecordsSynced);
            json.WriteNumber("errors", report.Errors);
            if (report.Active && report.StartTime is { } start) json.WriteNumber("uptime_seconds", (long)(report.Now - start).TotalSeconds);
            else json.WriteNull("uptime_seconds");
            Time(json, "last_successful_sync", report.LastSuccessfulSync);
            Text(json, "bootstrap", report.Bootstrap);
            Text(json, "local_database_problem", report.LocalDatabaseProblem);
            Text(json, "start_problem", report.StartProblem);
            Stream(json, reply?.Stream);
            BootstrapProgress(json, reply?.BootstrapProgress);
            json.WriteStartArray("tables");
            foreach (var table in reply?.Tables ?? [])
            {
                json.WriteStartObject();
                json.WriteString("table", table.Table);
                json.WriteString("state", table.State);
                Text(json, "checkpoint_lsn", table.CheckpointLsn);
                Text(json, "last_archive_file", table.LastArchiveFile);
                if (table.Lag is { } lag) json.WriteNumber("lag_seconds", (long)lag.TotalSeconds);
                else json.WriteNull("lag_seconds");
                Text(json, "detail", table.Detail);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void Stream(Utf8JsonWriter json, StreamStatus? stream)
    {
        if (stream is null)
        {
            json.WriteNull("stream");
            return;
        }

        json.WriteStartObject("stream");
        json.WriteString("restart_lsn", stream.RestartLsn);
        Text(json, "restart_archive_file", stream.RestartArchiveFile);
        Text(json, "last_archive_file", stream.LastArchiveFile);
        if (stream.OldestOpenTransaction is { } oldest)
        {
            json.WriteStartObject("oldest_open_transaction");
            json.WriteNumber("xid", oldest.Xid);
            Text(json, "lsn", oldest.Lsn);
            Text(json, "archive_file", oldest.ArchiveFile);
            Time(json, "begun_by", oldest.BegunBy);
            if (oldest.BegunBy is { } by && oldest.NewestCommitInWal is { } newest) json.WriteNumber("open_at_least_seconds", Math.Max(0, (long)(newest - by).TotalSeconds));
            else json.WriteNull("open_at_least_seconds");
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("oldest_open_transaction");
        }

        json.WriteStartObject("spool");
        json.WriteNumber("segments", stream.SpoolSegments);
        json.WriteNumber("bytes", stream.SpoolBytes);
        json.WriteNumber("decoded_kept_segments", stream.DecodedSpoolSegments);
        json.WriteNumber("decoded_kept_bytes", stream.DecodedSpoolBytes);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>
    /// The running bootstrap (null when none runs): its facts as the daemon reports them, and the same rate and time left
    /// as the progress bar shows (null when they cannot be told yet).
    /// </summary>
    private static void BootstrapProgress(Utf8JsonWriter json, BootstrapProgressStatus? running)
    {
        if (running is null)
        {
            json.WriteNull("bootstrap_progress");
            return;
        }

        var frame = BootstrapFrame.From(string.Join(", ", running.Tables), running, running.Tables);
        json.WriteStartObject("bootstrap_progress");
        json.WriteStartArray("tables");
        foreach (var table in running.Tables) json.WriteStringValue(table);
        json.WriteEndArray();
        json.WriteString("phase", running.Phase);
        Text(json, "note", running.Note);
        Text(json, "base_backup", running.BaseBackup);
        json.WriteNumber("elapsed_seconds", (long)running.ElapsedSeconds);
        json.WriteNumber("phase_elapsed_seconds", (long)running.PhaseElapsedSeconds);
        json.WriteNumber("restored_bytes", running.RestoredBytes);
        json.WriteNumber("restore_total_bytes", running.RestoreTotalBytes);
        Text(json, "replay_from_lsn", running.ReplayFromLsn);
        Text(json, "replayed_lsn", running.ReplayedLsn);
        Text(json, "replay_target_lsn", running.ReplayTargetLsn);
        json.WriteStartArray("copies");
        foreach (var copy in running.Copies)
        {
            json.WriteStartObject();
            json.WriteString("table", copy.Table);
            json.WriteNumber("rows_copied", copy.RowsCopied);
            if (copy.RowsEstimated is { } estimated) json.WriteNumber("rows_estimated", estimated);
            else json.WriteNull("rows_estimated");
            json.WriteBoolean("done", copy.Done);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        if (frame.Fraction is { } fraction) json.WriteNumber("phase_fraction", Math.Round(fraction, 4));
        else json.WriteNull("phase_fraction");
        if (frame.PerSecond is { } rate) json.WriteNumber("rate_per_second", (long)rate);
        else json.WriteNull("rate_per_second");
        if (frame.Eta is { } eta) json.WriteNumber("eta_seconds", (long)Math.Ceiling(eta.TotalSeconds));
        else json.WriteNull("eta_seconds");
        json.WriteEndObject();
    }

    private static void Text(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null) json.WriteNull(name);
        else json.WriteString(name, value);
    }

    private static void Time(Utf8JsonWriter json, string name, DateTimeOffset? value)
    {
        if (value is { } time) json.WriteString(name, time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
        else json.WriteNull(name);
    }
}
