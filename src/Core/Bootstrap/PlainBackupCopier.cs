using DataSync.Core.IO;

namespace DataSync.Core.Bootstrap;

/// <summary>
/// Copies a plain-format base backup (a copy of the data directory) without following links: the only links a
/// data directory has are pg_tblspc/&lt;oid&gt; (a tablespace, copied from where the link points into the
/// restore's tablespace folder, itself again without following links inside it) and pg_wal (left empty, WAL
/// comes from the archive). Any other link, and anything neither a file nor a folder, is refused with its path.
/// </summary>
internal static class PlainBackupCopier
{
    /// <summary>
    /// Where an sftp download of a plain backup keeps the tablespaces its pg_tblspc links led to on the server
    /// (the links are made relative, into it); not part of the data directory.
    /// </summary>
    public const string DownloadedTablespaces = ".datasync-tablespaces";

    /// <returns>The oids of the tablespaces copied.</returns>
    public static IReadOnlyList<uint> Copy(string backup, string destination, string tablespaceRoot)
    {
        CopyTree(backup, destination, "");
        var oids = new List<uint>();
        var tablespaces = Path.Combine(backup, "pg_tblspc");
        if (!Directory.Exists(tablespaces)) return oids;
        foreach (var entry in new DirectoryInfo(tablespaces).EnumerateFileSystemInfos())
        {
            if (!TablespaceLinks.IsTablespaceLinkName("pg_tblspc/" + entry.Name))
                throw new InvalidDataException($"{entry.FullName}: pg_tblspc holds only links named by a tablespace oid; refused");
            var source = entry.LinkTarget is null ? entry.FullName : (entry.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? entry.FullName);
            if (!Directory.Exists(source))
                throw new InvalidDataException($"tablespace {entry.Name} of base backup {backup}: pg_tblspc/{entry.Name} leads to '{source}', which is not a folder");
            // What a tablespace folder holds: one PG_<version>_<catversion> folder per server version that used it.
            if (new DirectoryInfo(source).EnumerateFileSystemInfos().Any(e => !e.Name.StartsWith("PG_", StringComparison.Ordinal) || e is not DirectoryInfo))
                throw new InvalidDataException($"tablespace {entry.Name} of base backup {backup}: '{source}' holds more than PG_<version> folders; not a tablespace, refused");
            var target = ContainedPath.Resolve(tablespaceRoot, entry.Name, tablespaces);
            Directory.CreateDirectory(target);
            CopyTree(source, target, null);
            oids.Add(uint.Parse(entry.Name, System.Globalization.CultureInfo.InvariantCulture));
        }

        return oids;
    }

    /// <param name="relative">The folder's path inside the data directory ("" at its root); null inside a tablespace.</param>
    private static void CopyTree(string source, string destination, string? relative)
    {
        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos())
        {
            var path = relative is null ? null : relative.Length == 0 ? entry.Name : relative + "/" + entry.Name;
            if (path == DownloadedTablespaces) continue;
            var target = ContainedPath.Resolve(destination, entry.Name, source);
            if (path == "pg_wal")
            {
                // Its contents (or, for initdb -X, the folder it links to) stay behind.
                Directory.CreateDirectory(target);
                continue;
            }

            if (path == "pg_tblspc" && entry.LinkTarget is null)
            {
                // Its links are made by TablespaceLinks once the tablespaces are copied.
                Directory.CreateDirectory(target);
                continue;
            }

            if (entry.LinkTarget is { } link)
                throw new InvalidDataException($"{entry.FullName} is a symbolic link to '{link}'; a base backup holds none outside pg_tblspc and pg_wal: refused");
            if (entry is DirectoryInfo folder)
            {
                Directory.CreateDirectory(target);
                CopyTree(folder.FullName, target, path);
            }
            else if (entry is FileInfo)
            {
                File.Copy(entry.FullName, target, overwrite: true);
            }
            else
            {
                throw new InvalidDataException($"{entry.FullName} is neither a file nor a folder: refused");
            }
        }
    }
}
