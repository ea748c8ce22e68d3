using System.Globalization;

namespace DataSync.Core.Bootstrap;

/// <summary>
/// Points a restored data directory's tablespaces at their copies inside the restore. PostgreSQL reaches a
/// tablespace through the link pg_tblspc/&lt;oid&gt;; a backup's <c>tablespace_map</c> (oid, space, production's
/// path, one per line) would make the server create links to production's paths at start, on this machine. So the
/// links are made here, to &lt;tablespace folder&gt;/&lt;oid&gt;, and the map is removed.
/// </summary>
internal static class TablespaceLinks
{
    /// <summary>Whether a data-directory path is pg_tblspc/&lt;oid&gt;.</summary>
    public static bool IsTablespaceLinkName(string path) =>
        path.StartsWith("pg_tblspc/", StringComparison.Ordinal) && path.Length > "pg_tblspc/".Length && path.Length <= "pg_tblspc/".Length + 10 &&
        path.AsSpan("pg_tblspc/".Length).IndexOfAnyExceptInRange('0', '9') < 0;

    /// <param name="copied">The tablespaces extracted or copied into <paramref name="tablespaceRoot"/>.</param>
    public static void Create(BaseBackup backup, string dataDirectory, string tablespaceRoot, IReadOnlyCollection<uint> copied)
    {
        var mapPath = Path.Combine(dataDirectory, "tablespace_map");
        if (File.Exists(mapPath))
        {
            foreach (var oid in ReadMapOids(mapPath))
            {
                if (!copied.Contains(oid))
                {
                    throw new InvalidDataException(
                        $"base backup {backup.Directory}: tablespace_map names tablespace {oid}, but the backup holds no copy of it " +
                        $"({(backup.Layout == BaseBackupLayout.Plain ? $"pg_tblspc/{oid}" : $"{oid}.tar{backup.TarSuffix}")} is missing); copy the whole backup");
                }
            }

            File.Delete(mapPath);
        }

        if (copied.Count == 0) return;
        var links = Path.Combine(dataDirectory, "pg_tblspc");
        Directory.CreateDirectory(links);
        foreach (var oid in copied)
        {
            var name = oid.ToString(CultureInfo.InvariantCulture);
            var link = Path.Combine(links, name);
            if (Directory.Exists(link) && new DirectoryInfo(link).LinkTarget is null && !Directory.EnumerateFileSystemEntries(link).Any())
                Directory.Delete(link);
            Directory.CreateSymbolicLink(link, Path.GetFullPath(Path.Combine(tablespaceRoot, name)));
        }
    }

    /// <summary>The oids a tablespace_map lists; the paths after them are production's and are not used.</summary>
    private static IEnumerable<uint> ReadMapOids(string mapPath)
    {
        using var file = File.OpenRead(mapPath);
        var text = IO.BoundedText.Read(file, IO.BoundedText.BackupLabelLimit * 16, mapPath);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0) continue;
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space <= 0 || !uint.TryParse(line.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out var oid))
                throw new InvalidDataException($"{mapPath}: line '{IO.ContainedPath.Printable(line)}' is not '<oid> <path>'");
            yield return oid;
        }
    }
}
