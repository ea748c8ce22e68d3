using System.Buffers.Binary;
using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DataSync.Core;
using DataSync.Core.Embedded;
using DataSync.Wal;
using DataSync.Wal.Checksums;
using Npgsql;
using NpgsqlTypes;

namespace DataSync.Embedded;

/// <summary>
/// Plain: a copy of the data directory, each tablespace copied beside it (folder <c>&lt;backup&gt;.tblspc/&lt;oid&gt;</c>)
/// with pg_tblspc/&lt;oid&gt; a link to it; tar: that copy packed as <c>base.tar</c> with a <c>tablespace_map</c> and
/// one <c>&lt;oid&gt;.tar</c> per tablespace. Both as pg_basebackup writes them.
/// </summary>
public enum BaseBackupFormat
{
    Plain,
    Tar,
}

/// <summary>Where a base backup was written and the WAL range it needs to be consistent.</summary>
public sealed record BaseBackupInfo(string Directory, BaseBackupFormat Format, Lsn StartLsn, Lsn StopLsn);

/// <summary>
/// Takes a base backup with PostgreSQL's low-level API (<c>pg_backup_start</c>, copy the files,
/// <c>pg_backup_stop</c>, write the label it returns). pg_basebackup of older client versions refuses an
/// 18 server, and this needs no replication connection: it is how the tests and the demo make backups.
/// </summary>
public static class LowLevelBaseBackup
{
    // Folders whose contents PostgreSQL documents as safe (or required) to leave out of a backup;
    // the folders themselves are kept because the server expects them to exist.
    private static readonly HashSet<string> EmptiedFolders = new(StringComparer.Ordinal)
    {
        "pg_wal", "pg_replslot", "pg_dynshmem", "pg_notify", "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans",
    };

    private static readonly HashSet<string> SkippedFiles = new(StringComparer.Ordinal)
    {
        "postmaster.pid", "postmaster.opts", "backup_label", "tablespace_map", "backup_label.old",
    };

    /// <param name="gzip">Tar format only: <c>base.tar.gz</c> and <c>&lt;oid&gt;.tar.gz</c>, as pg_basebackup -Ft -z.</param>
    /// <param name="manifest">Writes a <c>backup_manifest</c> as pg_basebackup does (CRC32C per file, SHA-256 of the manifest).</param>
    public static async Task<BaseBackupInfo> TakeAsync(
        PostgresServer server, string destination, BaseBackupFormat format, CancellationToken cancellationToken = default, bool gzip = false, bool manifest = false)
    {
        await using var connection = await server.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        Lsn startLsn;
        await using (var start = new NpgsqlCommand("SELECT pg_backup_start('datasync', true)", connection))
            startLsn = ((NpgsqlLogSequenceNumber)(await start.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!).ToLsn();

        var copyRoot = format == BaseBackupFormat.Plain ? destination : Path.Combine(destination, ".staging");
        var tablespaceRoot = format == BaseBackupFormat.Plain ? destination.TrimEnd('/') + ".tblspc" : Path.Combine(destination, ".tablespaces");
        Directory.CreateDirectory(copyRoot);
        CopyDataDirectory(server.DataDirectory, copyRoot, "");
        var tablespaces = CopyTablespaces(server.DataDirectory, copyRoot, tablespaceRoot, links: format == BaseBackupFormat.Plain);
        // Copied again, last: a backup taken on a standby ends where this copy's minimum recovery point says, which
        // must cover every file copied before it (PostgreSQL's documentation of the low-level API asks for this).
        File.Copy(Path.Combine(server.DataDirectory, "global", "pg_control"), Path.Combine(copyRoot, "global", "pg_control"), overwrite: true);

        Lsn stopLsn;
        string label, tablespaceMap;
        await using (var stop = new NpgsqlCommand("SELECT lsn, labelfile, spcmapfile FROM pg_backup_stop(true)", connection))
        await using (var reader = await stop.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            stopLsn = reader.GetLsn(0);
            label = reader.GetString(1);
            tablespaceMap = reader.IsDBNull(2) ? "" : reader.GetString(2);
        }

        await File.WriteAllTextAsync(Path.Combine(copyRoot, "backup_label"), label, cancellationToken).ConfigureAwait(false);
        // pg_basebackup writes the map in tar format only; a plain backup has its links.
        if (tablespaceMap.Length > 0 && format == BaseBackupFormat.Tar)
            await File.WriteAllTextAsync(Path.Combine(copyRoot, "tablespace_map"), tablespaceMap, cancellationToken).ConfigureAwait(false);
        if (manifest)
        {
            var path = Path.Combine(format == BaseBackupFormat.Plain ? copyRoot : destination, "backup_manifest");
            await File.WriteAllTextAsync(path, Manifest(copyRoot, tablespaceRoot, tablespaces, startLsn, stopLsn), cancellationToken).ConfigureAwait(false);
        }

        if (format == BaseBackupFormat.Tar)
        {
            var suffix = gzip ? ".tar.gz" : ".tar";
            await PackAsync(copyRoot, Path.Combine(destination, "base" + suffix), gzip, cancellationToken).ConfigureAwait(false);
            foreach (var oid in tablespaces)
                await PackAsync(Path.Combine(tablespaceRoot, oid), Path.Combine(destination, oid + suffix), gzip, cancellationToken).ConfigureAwait(false);
            Directory.Delete(copyRoot, recursive: true);
            if (Directory.Exists(tablespaceRoot)) Directory.Delete(tablespaceRoot, recursive: true);
        }

        return new BaseBackupInfo(destination, format, startLsn, stopLsn);
    }

    private static async Task PackAsync(string folder, string tarPath, bool gzip, CancellationToken cancellationToken)
    {
        await using var file = File.Create(tarPath);
        await using Stream output = gzip ? new GZipStream(file, CompressionLevel.Fastest) : file;
        await TarFile.CreateFromDirectoryAsync(folder, output, includeBaseDirectory: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Copies each tablespace (what pg_tblspc/&lt;oid&gt; links to) into <paramref name="tablespaceRoot"/>/&lt;oid&gt;; returns the oids.</summary>
    private static List<string> CopyTablespaces(string dataDirectory, string copyRoot, string tablespaceRoot, bool links)
    {
        var oids = new List<string>();
        foreach (var link in new DirectoryInfo(Path.Combine(dataDirectory, "pg_tblspc")).EnumerateFileSystemInfos())
        {
            var target = Path.Combine(tablespaceRoot, link.Name);
            Directory.CreateDirectory(target);
            CopyDataDirectory(link.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? link.FullName, target, null);
            if (links) Directory.CreateSymbolicLink(Path.Combine(copyRoot, "pg_tblspc", link.Name), Path.GetFullPath(target));
            oids.Add(link.Name);
        }

        return oids;
    }

    /// <summary>A backup_manifest as pg_basebackup writes it: one line per file, then the WAL range, then the SHA-256 of all that.</summary>
    private static string Manifest(string copyRoot, string tablespaceRoot, IReadOnlyList<string> tablespaces, Lsn startLsn, Lsn stopLsn)
    {
        var files = new List<(string Path, string Full)>();
        foreach (var file in Directory.EnumerateFiles(copyRoot, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(copyRoot, file).Replace('\\', '/');
            if (!relative.StartsWith("pg_tblspc/", StringComparison.Ordinal)) files.Add((relative, file));
        }

        foreach (var oid in tablespaces)
            foreach (var file in Directory.EnumerateFiles(Path.Combine(tablespaceRoot, oid), "*", SearchOption.AllDirectories))
                files.Add(($"pg_tblspc/{oid}/" + Path.GetRelativePath(Path.Combine(tablespaceRoot, oid), file), file));

        var text = new StringBuilder("{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [\n");
        text.AppendJoin(",\n", files.Select(f =>
        {
            var bytes = File.ReadAllBytes(f.Full);
            Span<byte> crc = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(crc, Crc32C.Compute(bytes));
            return string.Create(CultureInfo.InvariantCulture,
                $"{{ \"Path\": {JsonSerializer.Serialize(f.Path)}, \"Size\": {bytes.Length}, \"Last-Modified\": \"{File.GetLastWriteTimeUtc(f.Full):yyyy-MM-dd HH:mm:ss} GMT\", \"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"{Convert.ToHexStringLower(crc)}\" }}");
        }));
        text.Append(CultureInfo.InvariantCulture, $"\n],\n\"WAL-Ranges\": [\n{{ \"Timeline\": 1, \"Start-LSN\": \"{startLsn}\", \"End-LSN\": \"{stopLsn}\" }}\n],\n");
        var body = text.ToString();
        var checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)));
        return body + $"\"Manifest-Checksum\": \"{checksum}\"}}\n";
    }

    /// <param name="relative">Path inside the data directory ("" at its root), null inside a tablespace.</param>
    private static void CopyDataDirectory(string source, string destination, string? relative)
    {
        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos())
        {
            var target = Path.Combine(destination, entry.Name);
            if (relative == "" && entry.Name == "pg_tblspc")
            {
                // Tablespaces are copied by CopyTablespaces, the links (plain) made there.
                Directory.CreateDirectory(target);
                continue;
            }

            if (entry is DirectoryInfo folder)
            {
                Directory.CreateDirectory(target);
                if (relative == "" && EmptiedFolders.Contains(entry.Name))
                {
                    // pg_wal keeps its archive_status folder; everything else in these folders is runtime state.
                    if (entry.Name == "pg_wal") Directory.CreateDirectory(Path.Combine(target, "archive_status"));
                    continue;
                }

                CopyDataDirectory(folder.FullName, target, relative is null ? null : relative + entry.Name + "/");
            }
            else if (!SkippedFiles.Contains(entry.Name) && !entry.Name.StartsWith("pgsql_tmp", StringComparison.Ordinal))
            {
                try
                {
                    File.Copy(entry.FullName, target, overwrite: true);
                }
                catch (FileNotFoundException)
                {
                    // Dropped while we copied (a temporary file or a dropped relation): WAL replay recreates what matters.
                }
            }
        }
    }
}
