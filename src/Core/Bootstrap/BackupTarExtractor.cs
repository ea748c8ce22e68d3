using System.Formats.Tar;
using DataSync.Core.IO;

namespace DataSync.Core.Bootstrap;

/// <summary>
/// Unpacks one tar of a base backup (base.tar or a tablespace's &lt;oid&gt;.tar) into its folder. Every entry
/// name is resolved below the folder and refused when it would leave it (absolute, <c>..</c>); links are
/// never made from entries (a link could point anywhere, and a later entry would write through it): the only
/// ones a base backup may carry, pg_tblspc/&lt;oid&gt;, are made by <see cref="TablespaceLinks"/> instead; any
/// other link, and devices or fifos, are refused.
/// </summary>
internal static class BackupTarExtractor
{
    /// <summary>
    /// The largest file a data directory holds: a relation is cut into 1 GiB files (RELSEG_SIZE of a standard
    /// build). An entry claiming more is refused before a byte of it is written: a small compressed tar could
    /// otherwise fill the disk.
    /// </summary>
    public const long LargestFile = 1L << 30;

    /// <param name="progress">Told the bytes of <paramref name="tarPath"/> read as they are, when given.</param>
    public static void Extract(string tarPath, BaseBackupLayout layout, string destination, bool isBaseTar, BootstrapProgress? progress = null)
    {
        using var reader = new TarReader(progress is null ? BaseBackup.OpenDecompressed(tarPath, layout) : BaseBackup.OpenDecompressed(tarPath, layout, progress.AddRestored));
        while (reader.GetNextEntry() is { } entry)
        {
            var name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
            name = name.TrimEnd('/');
            if (name.Length == 0 || name == ".") continue;
            var source = $"{tarPath}: entry '{ContainedPath.Printable(entry.Name)}'";
            var target = ContainedPath.Resolve(destination, name, tarPath);
            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    Directory.CreateDirectory(target);
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    // WAL comes from the archive; a backup's own pg_wal files (pg_basebackup -X fetch) are left out.
                    if (isBaseTar && name.StartsWith("pg_wal/", StringComparison.Ordinal)) break;
                    if (entry.Length > LargestFile)
                        throw new InvalidDataException($"{source} claims {entry.Length} bytes; no file of a data directory is larger than {LargestFile} (one relation segment): refused");
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    entry.ExtractToFile(target, overwrite: true);
                    break;
                case TarEntryType.SymbolicLink when isBaseTar && TablespaceLinks.IsTablespaceLinkName(name):
                    // pg_basebackup's own link to production's tablespace path: replaced by one into the restore.
                    break;
                case TarEntryType.SymbolicLink when isBaseTar && name == "pg_wal":
                    Directory.CreateDirectory(target);
                    break;
                case TarEntryType.SymbolicLink or TarEntryType.HardLink:
                    throw new InvalidDataException(
                        $"{source} is a {(entry.EntryType == TarEntryType.HardLink ? "hard" : "symbolic")} link to '{ContainedPath.Printable(entry.LinkName)}'; " +
                        "a base backup holds no links but pg_tblspc's (which are made anew): refused, nothing of it written");
                case TarEntryType.GlobalExtendedAttributes or TarEntryType.ExtendedAttributes:
                    break;
                default:
                    throw new InvalidDataException($"{source} is a {entry.EntryType} entry, which a base backup does not hold: refused");
            }
        }
    }
}
