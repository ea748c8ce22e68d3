using System.Globalization;

namespace DataSync.Wal.Segments;

/// <summary>
/// A backup history file in the archive, <c>&lt;start segment&gt;.&lt;8 hex offset&gt;.backup</c>: the
/// backup label plus STOP lines (src/backend/access/transam/xlogbackup.c), one <c>KEY: value</c> per line.
/// </summary>
public sealed record BackupHistoryFile(
    string FileName, Lsn StartLsn, string StartSegment, Lsn StopLsn, Lsn CheckpointLsn,
    uint StartTimeline, uint StopTimeline, string Label, string StartTime, string StopTime)
{
    public static bool IsBackupFileName(string fileName) =>
        fileName.Length == 24 + 1 + 8 + 7 && fileName.EndsWith(".backup", StringComparison.Ordinal) &&
        WalSegmentName.TryParse(fileName.AsSpan(0, 24), out _) && fileName[24] == '.' &&
        uint.TryParse(fileName.AsSpan(25, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _);

    public static BackupHistoryFile ReadFile(string path) => Parse(Path.GetFileName(path), File.ReadAllText(path));

    public static BackupHistoryFile Parse(string fileName, string text)
    {
        if (!IsBackupFileName(fileName))
            throw new WalFormatException(WalErrorKind.BadFileName, fileName, -1, Lsn.Invalid, "not a backup history file name (segment.offset.backup)");
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            var colon = line.IndexOf(": ", StringComparison.Ordinal);
            if (colon > 0) values[line[..colon]] = line[(colon + 2)..];
        }

        string Required(string key) => values.TryGetValue(key, out var value)
            ? value
            : throw new WalFormatException(WalErrorKind.BadRecordData, fileName, -1, Lsn.Invalid, $"line '{key}:' is missing");

        Lsn LsnOf(string key)
        {
            var value = Required(key);
            var text = value.Split(' ', 2)[0];
            return Lsn.TryParse(text, out var lsn) ? lsn
                : throw new WalFormatException(WalErrorKind.BadRecordData, fileName, -1, Lsn.Invalid, $"'{key}: {value}' has no LSN");
        }

        uint TimelineOf(string key) => uint.TryParse(Required(key), NumberStyles.None, CultureInfo.InvariantCulture, out var tli) ? tli
            : throw new WalFormatException(WalErrorKind.BadRecordData, fileName, -1, Lsn.Invalid, $"'{key}' is not a timeline number");

        var start = Required("START WAL LOCATION");
        var fileStart = start.IndexOf("(file ", StringComparison.Ordinal);
        var startSegment = fileStart >= 0 ? start[(fileStart + 6)..].TrimEnd(')') : "";
        return new BackupHistoryFile(
            fileName,
            LsnOf("START WAL LOCATION"),
            startSegment,
            LsnOf("STOP WAL LOCATION"),
            LsnOf("CHECKPOINT LOCATION"),
            TimelineOf("START TIMELINE"),
            TimelineOf("STOP TIMELINE"),
            values.GetValueOrDefault("LABEL", ""),
            values.GetValueOrDefault("START TIME", ""),
            values.GetValueOrDefault("STOP TIME", ""));
    }
}
