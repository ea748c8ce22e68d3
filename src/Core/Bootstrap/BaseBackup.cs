using System.Formats.Tar;
using System.IO.Compression;

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

/// <summary>One base backup in BASE_BACKUP_DIR: its folder, how it is stored, and its label.</summary>
public sealed record BaseBackup(string Directory, BaseBackupLayout Layout, BackupLabel Label)
{
    /// <summary>The tar files a backup folder may hold, in the order they are looked for.</summary>
    internal static readonly (string File, BaseBackupLayout Layout)[] TarFiles =
    [
        ("base.tar", BaseBackupLayout.Tar),
        ("base.tar.gz", BaseBackupLayout.TarGzip),
        ("base.tar.lz4", BaseBackupLayout.TarLz4),
        ("base.tar.zst", BaseBackupLayout.TarZstd),
    ];

    public string Name => Path.GetFileName(Directory);

    /// <summary>The backups below <paramref name="baseBackupDirectory"/>, newest (latest start LSN) first. Folders that are not backups are skipped.</summary>
    public static IReadOnlyList<BaseBackup> FindAll(string baseBackupDirectory)
    {
        if (!System.IO.Directory.Exists(baseBackupDirectory))
            throw new DirectoryNotFoundException($"BASE_BACKUP_DIR '{baseBackupDirectory}' does not exist");
        var backups = new List<BaseBackup>();
        foreach (var folder in System.IO.Directory.EnumerateDirectories(baseBackupDirectory))
        {
            if (TryOpen(folder) is { } backup) backups.Add(backup);
        }

        return backups.OrderByDescending(b => b.Label.StartLsn).ToList();
    }

    public static BaseBackup? TryOpen(string folder)
    {
        var labelPath = Path.Combine(folder, "backup_label");
        if (File.Exists(labelPath))
            return new BaseBackup(folder, BaseBackupLayout.Plain, BackupLabel.Parse(File.ReadAllText(labelPath), labelPath));

        foreach (var (file, layout) in TarFiles)
        {
            var tar = Path.Combine(folder, file);
            if (!File.Exists(tar)) continue;
            using var reader = new TarReader(OpenDecompressed(tar, layout));
            while (reader.GetNextEntry() is { } entry)
            {
                if (NormalizeEntryName(entry.Name) == "backup_label" && entry.DataStream is { } data)
                    return new BaseBackup(folder, layout, BackupLabel.Parse(new StreamReader(data).ReadToEnd(), tar + ":backup_label"));
            }

            throw new InvalidDataException($"{tar} has no backup_label: not a base backup");
        }

        return null;
    }

    /// <summary>Writes the backup's data directory into <paramref name="destination"/>, leaving pg_wal empty (WAL comes from the archive).</summary>
    public void ExtractTo(string destination)
    {
        System.IO.Directory.CreateDirectory(destination);
        if (Layout == BaseBackupLayout.Plain)
        {
            CopyTree(Directory, destination);
        }
        else
        {
            var tar = Path.Combine(Directory, TarFiles.First(t => t.Layout == Layout).File);
            using var reader = new TarReader(OpenDecompressed(tar, Layout));
            while (reader.GetNextEntry() is { } entry)
            {
                var name = NormalizeEntryName(entry.Name);
                if (name.Length == 0 || name.Split('/').Contains("..")) continue;
                var target = Path.Combine(destination, name);
                if (entry.EntryType is TarEntryType.Directory)
                {
                    System.IO.Directory.CreateDirectory(target);
                }
                else if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile && !IsWalFile(name))
                {
                    System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    entry.ExtractToFile(target, overwrite: true);
                }
            }
        }

        System.IO.Directory.CreateDirectory(Path.Combine(destination, "pg_wal", "archive_status"));
    }

    private static bool IsWalFile(string name) => name.StartsWith("pg_wal/", StringComparison.Ordinal) && name != "pg_wal/";

    internal static string NormalizeEntryName(string name) => name.StartsWith("./", StringComparison.Ordinal) ? name[2..].TrimEnd('/') : name.TrimEnd('/');

    private static void CopyTree(string source, string destination)
    {
        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos())
        {
            var target = Path.Combine(destination, entry.Name);
            if (entry is DirectoryInfo folder)
            {
                System.IO.Directory.CreateDirectory(target);
                if (entry.Name != "pg_wal") CopyTree(folder.FullName, target);
            }
            else
            {
                File.Copy(entry.FullName, target, overwrite: true);
            }
        }
    }

    private static Stream OpenDecompressed(string path, BaseBackupLayout layout) => Decompress(File.OpenRead(path), layout);

    /// <summary>The tar inside a (possibly compressed) tar file's stream; disposing it disposes <paramref name="file"/>.</summary>
    internal static Stream Decompress(Stream file, BaseBackupLayout layout) => layout switch
    {
        BaseBackupLayout.Tar => file,
        BaseBackupLayout.TarGzip => new GZipStream(file, CompressionMode.Decompress),
        BaseBackupLayout.TarLz4 => K4os.Compression.LZ4.Streams.LZ4Stream.Decode(file),
        BaseBackupLayout.TarZstd => new ZstdSharp.DecompressionStream(file),
        _ => throw new ArgumentOutOfRangeException(nameof(layout)),
    };
}
