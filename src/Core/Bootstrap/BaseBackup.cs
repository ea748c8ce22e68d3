using System.Formats.Tar;
using System.IO.Compression;
using System.Text.RegularExpressions;
using DataSync.Core.IO;

namespace DataSync.Core.Bootstrap;

/// <summary>How a base backup is stored: a plain copy of the data directory, or <c>base.tar</c>, possibly compressed.</summary>
public enum BaseBackupLayout
{
    Plain,
    Tar,
    TarGzip,
    TarLz4,
    TarZstd,
}

/// <summary>
/// One base backup in BASE_BACKUP_DIR: its folder, how it is stored, and its label. A tar backup may carry
/// one <c>&lt;oid&gt;.tar</c> per tablespace beside <c>base.tar</c> (same compression) and a <c>backup_manifest</c>,
/// as pg_basebackup -Ft writes them.
/// </summary>
public sealed partial record BaseBackup(string Directory, BaseBackupLayout Layout, BackupLabel Label)
{
    /// <summary>The tar files a backup folder may hold, in the order they are looked for.</summary>
    internal static readonly (string File, BaseBackupLayout Layout)[] TarFiles =
    [
        ("base.tar", BaseBackupLayout.Tar),
        ("base.tar.gz", BaseBackupLayout.TarGzip),
        ("base.tar.lz4", BaseBackupLayout.TarLz4),
        ("base.tar.zst", BaseBackupLayout.TarZstd),
    ];

    public const string ManifestFileName = "backup_manifest";

    public string Name => Path.GetFileName(Directory);

    /// <summary>The file name of a tar backup's main archive (base.tar and its compression suffix).</summary>
    public string BaseTarFile => TarFiles.First(t => t.Layout == Layout).File;

    /// <summary>The compression suffix this backup's tar files carry ("" for plain tar).</summary>
    internal string TarSuffix => BaseTarFile["base.tar".Length..];

    /// <summary>
    /// The backups below <paramref name="baseBackupDirectory"/>, newest (latest start LSN) first. Folders that are
    /// not backups are skipped; so is a backup whose label cannot be read, which <paramref name="unreadable"/> is told
    /// (folder, error) so the others stay usable.
    /// </summary>
    public static IReadOnlyList<BaseBackup> FindAll(string baseBackupDirectory, Action<string, Exception>? unreadable = null)
    {
        if (!System.IO.Directory.Exists(baseBackupDirectory))
            throw new DirectoryNotFoundException($"BASE_BACKUP_DIR '{baseBackupDirectory}' does not exist");
        var backups = new List<BaseBackup>();
        foreach (var folder in System.IO.Directory.EnumerateDirectories(baseBackupDirectory))
        {
            try
            {
                if (TryOpen(folder) is { } backup) backups.Add(backup);
            }
            catch (Exception e) when (e is FormatException or InvalidDataException or IOException or UnauthorizedAccessException or ZstdSharp.ZstdException)
            {
                if (unreadable is null) throw;
                unreadable(folder, e);
            }
        }

        return backups.OrderByDescending(b => b.Label.StartLsn).ToList();
    }

    public static BaseBackup? TryOpen(string folder)
    {
        var labelPath = Path.Combine(folder, "backup_label");
        if (File.Exists(labelPath))
        {
            using var file = File.OpenRead(labelPath);
            return new BaseBackup(folder, BaseBackupLayout.Plain, BackupLabel.Parse(BoundedText.Read(file, BoundedText.BackupLabelLimit, labelPath), labelPath));
        }

        foreach (var (file, layout) in TarFiles)
        {
            var tar = Path.Combine(folder, file);
            if (!File.Exists(tar)) continue;
            using var reader = new TarReader(OpenDecompressed(tar, layout));
            while (reader.GetNextEntry() is { } entry)
            {
                if (NormalizeEntryName(entry.Name) == "backup_label" && entry.DataStream is { } data)
                {
                    var source = tar + ":backup_label";
                    return new BaseBackup(folder, layout, BackupLabel.Parse(BoundedText.Read(data, BoundedText.BackupLabelLimit, source), source));
                }
            }

            throw new InvalidDataException($"{tar} has no backup_label: not a base backup");
        }

        return null;
    }

    /// <summary>
    /// The tablespace archives beside base.tar: <c>&lt;oid&gt;.tar</c> with the same compression suffix, by oid.
    /// Empty for a plain backup (its tablespaces are reached through pg_tblspc).
    /// </summary>
    public IReadOnlyDictionary<uint, string> TablespaceTars()
    {
        var found = new Dictionary<uint, string>();
        if (Layout == BaseBackupLayout.Plain) return found;
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory))
        {
            var name = Path.GetFileName(path);
            if (TablespaceTarName().Match(name) is { Success: true } match && match.Groups[2].Value == TarSuffix &&
                uint.TryParse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture, out var oid))
                found[oid] = path;
        }

        return found;
    }

    /// <summary>
    /// Writes the backup's data directory into <paramref name="destination"/>, leaving pg_wal empty (WAL comes
    /// from the archive). Tablespaces go to the folder <c>tablespaces</c> beside it (see the other overload).
    /// </summary>
    /// <param name="destination">The data directory to write.</param>
    /// <param name="progress">Told the bytes there are to copy and the bytes copied as they go (a running bootstrap's progress), when given.</param>
    public void ExtractTo(string destination, BootstrapProgress? progress = null) =>
        ExtractTo(destination, Path.Combine(Path.GetDirectoryName(Path.GetFullPath(destination))!, "tablespaces"), progress);

    /// <summary>
    /// Writes the backup's data directory into <paramref name="destination"/> and each tablespace into
    /// <paramref name="tablespaceRoot"/>/&lt;oid&gt;, with pg_tblspc/&lt;oid&gt; a link to that folder and no
    /// tablespace_map left: the restore never touches production's tablespace paths. No name taken from the
    /// backup is written outside these two folders; a backup that tries is refused with an error naming the entry.
    /// When the backup has a <c>backup_manifest</c>, every file it lists is checked (size and checksum).
    /// </summary>
    public void ExtractTo(string destination, string tablespaceRoot, BootstrapProgress? progress = null)
    {
        System.IO.Directory.CreateDirectory(destination);
        IReadOnlyCollection<uint> tablespaces;
        if (Layout == BaseBackupLayout.Plain)
        {
            tablespaces = PlainBackupCopier.Copy(Directory, destination, tablespaceRoot, progress);
        }
        else
        {
            var tar = Path.Combine(Directory, BaseTarFile);
            var tars = TablespaceTars();
            // A compressed tar's progress is told in the bytes of the file read, the only size known before unpacking it.
            progress?.Restoring(Name, new FileInfo(tar).Length + tars.Values.Sum(t => new FileInfo(t).Length));
            BackupTarExtractor.Extract(tar, Layout, destination, isBaseTar: true, progress);
            tablespaces = tars.Keys.ToList();
            foreach (var (oid, tablespaceTar) in tars)
            {
                var folder = Path.Combine(tablespaceRoot, oid.ToString(System.Globalization.CultureInfo.InvariantCulture));
                System.IO.Directory.CreateDirectory(folder);
                BackupTarExtractor.Extract(tablespaceTar, Layout, folder, isBaseTar: false, progress);
            }
        }

        // Checked before the links are made and tablespace_map removed: the manifest lists the map too.
        var manifest = Layout == BaseBackupLayout.Plain ? Path.Combine(destination, ManifestFileName) : Path.Combine(Directory, ManifestFileName);
        if (File.Exists(manifest)) BackupManifest.Verify(manifest, destination, tablespaceRoot);
        TablespaceLinks.Create(this, destination, tablespaceRoot, tablespaces);
        System.IO.Directory.CreateDirectory(Path.Combine(destination, "pg_wal", "archive_status"));
    }

    internal static string NormalizeEntryName(string name) => name.StartsWith("./", StringComparison.Ordinal) ? name[2..].TrimEnd('/') : name.TrimEnd('/');

    internal static Stream OpenDecompressed(string path, BaseBackupLayout layout) => Decompress(File.OpenRead(path), layout);

    /// <summary>As <see cref="OpenDecompressed(string, BaseBackupLayout)"/>, telling <paramref name="read"/> each piece of the file read.</summary>
    internal static Stream OpenDecompressed(string path, BaseBackupLayout layout, Action<long> read) => Decompress(new ReadCountingStream(File.OpenRead(path), read), layout);

    /// <summary>The tar inside a (possibly compressed) tar file's stream; disposing it disposes <paramref name="file"/>.</summary>
    internal static Stream Decompress(Stream file, BaseBackupLayout layout) => layout switch
    {
        BaseBackupLayout.Tar => file,
        BaseBackupLayout.TarGzip => new GZipStream(file, CompressionMode.Decompress),
        BaseBackupLayout.TarLz4 => K4os.Compression.LZ4.Streams.LZ4Stream.Decode(file),
        BaseBackupLayout.TarZstd => new ZstdSharp.DecompressionStream(file),
        _ => throw new ArgumentOutOfRangeException(nameof(layout)),
    };

    [GeneratedRegex(@"^([0-9]{1,10})\.tar((?:\.gz|\.lz4|\.zst)?)$")]
    private static partial Regex TablespaceTarName();
}
