using System.Globalization;

namespace DataSync.Wal.Segments;

/// <summary>
/// A timeline history file, <c>TTTTTTTT.history</c> (src/backend/access/transam/timeline.c): one line
/// per ancestor timeline, <c>parentTLI &lt;tab&gt; switchpoint LSN &lt;tab&gt; reason</c>; blank lines and
/// lines starting with <c>#</c> are ignored. The switch point is the first LSN of the next timeline.
/// </summary>
public sealed record TimelineHistory(uint Timeline, IReadOnlyList<TimelineHistory.Entry> Entries)
{
    public sealed record Entry(uint ParentTimeline, Lsn SwitchPoint, string Reason);

    public static bool IsHistoryFileName(string fileName) =>
        fileName.Length == 16 && fileName.EndsWith(".history", StringComparison.Ordinal) &&
        uint.TryParse(fileName.AsSpan(0, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _);

    /// <summary>
    /// A history file name as an archive_command may have stored it: <c>TTTTTTTT.history</c>, optionally with
    /// <c>.gz</c>, <c>.zst</c> or <c>.lz4</c> (commands that compress segments compress these too).
    /// </summary>
    public static bool IsArchivedHistoryFileName(string fileName, out string plainName, out SegmentCompression compression)
    {
        compression = SegmentCompression.None;
        plainName = fileName.Length >= 16 ? fileName[..16] : fileName;
        if (!IsHistoryFileName(plainName)) return false;
        compression = SegmentCompressionDetector.FromSuffix(fileName[16..]);
        return fileName.Length == 16 || compression != SegmentCompression.None;
    }

    public static TimelineHistory ReadFile(string path) => Parse(Path.GetFileName(path), File.ReadAllText(path));

    public static TimelineHistory Parse(string fileName, string text)
    {
        if (!IsHistoryFileName(fileName))
            throw new WalFormatException(WalErrorKind.BadFileName, fileName, -1, Lsn.Invalid, "not a timeline history file name (8 hex digits + .history)");
        var timeline = uint.Parse(fileName.AsSpan(0, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        var entries = new List<Entry>();
        var offset = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            var trimmed = line.TrimStart();
            if (trimmed.Length > 0 && trimmed[0] != '#')
            {
                var fields = trimmed.Split('\t', 3);
                if (fields.Length < 2 ||
                    !uint.TryParse(fields[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var parent) ||
                    !Lsn.TryParse(fields[1].Trim(), out var switchPoint))
                    throw new WalFormatException(WalErrorKind.BadRecordData, fileName, offset, Lsn.Invalid, $"malformed history line '{line}'");
                if (entries.Count > 0 && (parent <= entries[^1].ParentTimeline || switchPoint < entries[^1].SwitchPoint))
                    throw new WalFormatException(WalErrorKind.BadRecordData, fileName, offset, switchPoint, "timelines or switch points go backwards");
                if (parent >= timeline)
                    throw new WalFormatException(WalErrorKind.UnexpectedTimeline, fileName, offset, switchPoint, $"ancestor timeline {parent} is not older than {timeline}");
                entries.Add(new Entry(parent, switchPoint, fields.Length > 2 ? fields[2].Trim() : ""));
            }

            offset += rawLine.Length + 1;
        }

        return new TimelineHistory(timeline, entries);
    }

    /// <summary>Whether WAL of <paramref name="timeline"/> is part of this timeline's past (or is this timeline).</summary>
    public bool Contains(uint timeline) => timeline == Timeline || Entries.Any(e => e.ParentTimeline == timeline);

    /// <summary>
    /// Where <paramref name="timeline"/> ended on the way to this timeline (the first LSN of its successor),
    /// or null for this timeline itself, which has not ended, and for a timeline not in this history.
    /// </summary>
    public Lsn? EndOf(uint timeline)
    {
        foreach (var entry in Entries)
            if (entry.ParentTimeline == timeline) return entry.SwitchPoint;
        return null;
    }

    /// <summary>
    /// The timeline whose copy of the segment [<paramref name="segmentStart"/>, +<paramref name="segmentSize"/>) is the
    /// one to read: the newest that has begun before the segment ends. When a switch falls inside a segment, the new
    /// timeline's copy holds the old timeline's WAL up to the switch point and the new WAL after it (as PostgreSQL's
    /// recovery picks segments, XLogFileReadAnyTLI).
    /// </summary>
    public uint OwnerOfSegment(Lsn segmentStart, uint segmentSize) => TimelineOf(segmentStart + (segmentSize - 1UL));

    /// <summary>The timeline that WAL at <paramref name="lsn"/> belongs to, following this history.</summary>
    public uint TimelineOf(Lsn lsn)
    {
        foreach (var entry in Entries)
            if (lsn < entry.SwitchPoint) return entry.ParentTimeline;
        return Timeline;
    }
}
