using System.Buffers.Binary;
using System.Formats.Tar;
using System.Globalization;
using DataSync.Core.Archive;
using DataSync.Core.IO;
using DataSync.Wal;
using DataSync.Wal.Segments;

namespace DataSync.Core.Bootstrap;

/// <summary>
/// Where a base backup's WAL ends: the first position at which a restore of it is consistent. Replay
/// must get at least this far before the restore accepts connections, and no further WAL is needed,
/// so a production that has been quiet since the backup can still be bootstrapped from the archive.
/// </summary>
/// <remarks>
/// Three places know it. A backup taken on a primary makes the server write a backup history file
/// (<c>&lt;start segment&gt;.&lt;start offset, 8 hex digits&gt;.backup</c>) whose <c>STOP WAL LOCATION</c>
/// line holds it, and the archiver archives that file. pg_basebackup also writes it as the last
/// <c>End-LSN</c> of <c>WAL-Ranges</c> in <c>backup_manifest</c>. A backup taken on a standby has
/// neither; PostgreSQL then ends the backup at the minimum recovery point of the copied pg_control.
/// </remarks>
public static class BackupEnd
{
    /// <summary>ControlFileData.minRecoveryPoint in PostgreSQL 18's pg_control (after checkPointCopy and unloggedLSN).</summary>
    private const int MinRecoveryPointOffset = 136;

    /// <summary>The backup history file's name in the archive for a backup starting at <paramref name="start"/>.</summary>
    public static string HistoryFileName(BackupLabel label, uint segmentSize) =>
        string.Create(CultureInfo.InvariantCulture, $"{label.StartSegment}.{label.StartLsn.Value % segmentSize:X8}.backup");

    /// <summary>The end from the archived backup history file, else from backup_manifest; null when neither is there.</summary>
    public static async Task<(Lsn End, string Source)?> FindAsync(BaseBackup backup, IArchiveSource archive, uint segmentSize, CancellationToken cancellationToken)
    {
        var historyName = HistoryFileName(backup.Label, segmentSize);
        var listing = await archive.ListAsync(cancellationToken).ConfigureAwait(false);
        // An archive_command that compresses segments compresses this file too: a plain copy first, else a compressed one.
        var archived = listing.Where(e => e.Name.StartsWith(historyName, StringComparison.Ordinal) && IsHistoryFileCopy(e.Name[historyName.Length..]))
            .OrderBy(e => e.Name.Length).FirstOrDefault();
        if (archived is not null)
        {
            string text;
            await using (var raw = await archive.OpenReadAsync(archived.Name, cancellationToken).ConfigureAwait(false))
            await using (var plain = SegmentLoader.Decompress(raw, SegmentCompressionDetector.FromSuffix(archived.Name[historyName.Length..])))
                text = await BoundedText.ReadAsync(plain, BoundedText.BackupLabelLimit, $"{archive.Description}/{archived.Name}", cancellationToken).ConfigureAwait(false);
            if (StopLocation(text) is { } stop) return (stop, $"{archived.Name} in the archive");
        }

        var manifest = Path.Combine(backup.Directory, BaseBackup.ManifestFileName);
        if (File.Exists(manifest) && BackupManifest.WalEnd(manifest) is { } end)
            return (end, manifest);
        return OfStandbyBackup(backup) is { } standbyEnd ? (standbyEnd, "the minimum recovery point in the pg_control of a backup taken on a standby") : null;
    }

    private static bool IsHistoryFileCopy(string suffix) => suffix.Length == 0 || SegmentCompressionDetector.FromSuffix(suffix) != SegmentCompression.None;

    /// <summary>For a backup taken on a standby, its pg_control's minimum recovery point, read from the backup folder or tar; otherwise null.</summary>
    public static Lsn? OfStandbyBackup(BaseBackup backup)
    {
        if (backup.Layout == BaseBackupLayout.Plain)
            return TakenOnStandby(backup.Directory) ? MinRecoveryPoint(backup.Directory) : null;

        // A tar is read through once, written nowhere: only the label and pg_control are kept.
        var tar = Path.Combine(backup.Directory, BaseBackup.TarFiles.First(t => t.Layout == backup.Layout).File);
        using var reader = new TarReader(BaseBackup.Decompress(File.OpenRead(tar), backup.Layout));
        bool? standby = null;
        Lsn? minRecoveryPoint = null;
        while ((standby is null || (standby.Value && minRecoveryPoint is null)) && reader.GetNextEntry() is { } entry)
        {
            if (entry.DataStream is null) continue;
            var name = BaseBackup.NormalizeEntryName(entry.Name);
            if (name == "backup_label")
            {
                standby = new StreamReader(entry.DataStream).ReadToEnd().Split('\n').Any(l => l.Trim() == "BACKUP FROM: standby");
            }
            else if (name == "global/pg_control")
            {
                var bytes = new byte[MinRecoveryPointOffset + 8];
                entry.DataStream.ReadExactly(bytes);
                minRecoveryPoint = new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(MinRecoveryPointOffset)));
            }
        }

        return standby == true ? minRecoveryPoint : null;
    }

    /// <summary>"STOP WAL LOCATION: 0/6000158 (file ...)" of a backup history file.</summary>
    public static Lsn? StopLocation(string historyFile)
    {
        foreach (var line in historyFile.Split('\n', StringSplitOptions.TrimEntries))
        {
            const string key = "STOP WAL LOCATION: ";
            if (!line.StartsWith(key, StringComparison.Ordinal)) continue;
            var value = line.AsSpan(key.Length);
            var space = value.IndexOf(' ');
            if (Lsn.TryParse(space < 0 ? value : value[..space], out var lsn)) return lsn;
        }

        return null;
    }

    /// <summary>True when the restored <c>backup_label</c> says the backup was taken on a standby (<c>BACKUP FROM: standby</c>).</summary>
    public static bool TakenOnStandby(string dataDirectory)
    {
        var label = Path.Combine(dataDirectory, "backup_label");
        return File.Exists(label) && File.ReadLines(label).Any(l => l.Trim() == "BACKUP FROM: standby");
    }

    /// <summary>The minimum recovery point in the restored pg_control: where a standby's backup becomes consistent.</summary>
    public static Lsn MinRecoveryPoint(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, "global", "pg_control");
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < MinRecoveryPointOffset + 8)
            throw new InvalidDataException($"{path} is {bytes.Length} bytes, too short for a pg_control file");
        return new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(MinRecoveryPointOffset)));
    }
}
