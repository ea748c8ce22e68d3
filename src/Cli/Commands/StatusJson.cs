using System.Text.Json;
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
