using System.Globalization;
using DataSync.Wal;

namespace DataSync.Core.Bootstrap;

/// <summary>
/// The <c>backup_label</c> of a base backup: where its WAL starts (the redo point of its checkpoint),
/// the checkpoint itself, the timeline and the label. Replay must begin at <see cref="StartLsn"/>.
/// </summary>
public sealed record BackupLabel(Lsn StartLsn, string StartSegment, Lsn CheckpointLsn, uint Timeline, string Label, string? StartTime)
{
    /// <param name="source">Names the file in error messages.</param>
    public static BackupLabel Parse(string text, string source)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = line.IndexOf(": ", StringComparison.Ordinal);
            if (colon > 0) values[line[..colon]] = line[(colon + 2)..];
        }

        string Required(string key) =>
            values.TryGetValue(key, out var value) ? value : throw new FormatException($"{source}: backup_label has no '{key}' line");

        // "START WAL LOCATION: 0/6000060 (file 000000010000000000000006)"
        var start = Required("START WAL LOCATION");
        var open = start.IndexOf(" (file ", StringComparison.Ordinal);
        if (open < 0 || !start.EndsWith(')'))
            throw new FormatException($"{source}: unreadable START WAL LOCATION '{start}'");
        if (!Lsn.TryParse(start.AsSpan(0, open), out var startLsn))
            throw new FormatException($"{source}: START WAL LOCATION '{start}' is not an LSN");
        var segment = start[(open + 7)..^1];
        if (!Lsn.TryParse(Required("CHECKPOINT LOCATION"), out var checkpoint))
            throw new FormatException($"{source}: CHECKPOINT LOCATION is not an LSN");
        if (segment.Length != 24 || !uint.TryParse(segment.AsSpan(0, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var segmentTimeline))
            throw new FormatException($"{source}: START WAL LOCATION names '{segment}', not a WAL segment file");
        uint timeline;
        if (!values.TryGetValue("START TIMELINE", out var tli))
            timeline = segmentTimeline;
        else if (!uint.TryParse(tli, NumberStyles.None, CultureInfo.InvariantCulture, out timeline) || timeline == 0)
            throw new FormatException($"{source}: START TIMELINE '{tli}' is not a timeline number");
        return new BackupLabel(startLsn, segment, checkpoint, timeline, values.GetValueOrDefault("LABEL", ""), values.GetValueOrDefault("START TIME"));
    }
}
