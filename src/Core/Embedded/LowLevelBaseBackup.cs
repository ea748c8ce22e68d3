using System.Formats.Tar;
using Npgsql;

namespace DataSync.Core.Embedded;

/// <summary>Plain: a copy of the data directory; tar: that copy packed as <c>base.tar</c>. Both as pg_basebackup writes them.</summary>
public enum BaseBackupFormat
{
    Plain,
    Tar,
}

/// <summary>Where a base backup was written and the WAL range it needs to be consistent.</summary>
public sealed record BaseBackupInfo(string Directory, BaseBackupFormat Format, string StartLsn, string StopLsn);

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

    public static async Task<BaseBackupInfo> TakeAsync(
        PostgresServer server, string destination, BaseBackupFormat format, CancellationToken cancellationToken = default)
    {
        await using var connection = await server.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        string startLsn;
        await using (var start = new NpgsqlCommand("SELECT pg_backup_start('datasync', true)::text", connection))
            startLsn = (string)(await start.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;

        var copyRoot = format == BaseBackupFormat.Plain ? destination : Path.Combine(destination, ".staging");
        Directory.CreateDirectory(copyRoot);
        CopyDataDirectory(server.DataDirectory, copyRoot);

        string stopLsn, label, tablespaceMap;
        await using (var stop = new NpgsqlCommand("SELECT lsn::text, labelfile, spcmapfile FROM pg_backup_stop(true)", connection))
        await using (var reader = await stop.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            stopLsn = reader.GetString(0);
            label = reader.GetString(1);
            tablespaceMap = reader.IsDBNull(2) ? "" : reader.GetString(2);
        }

        await File.WriteAllTextAsync(Path.Combine(copyRoot, "backup_label"), label, cancellationToken).ConfigureAwait(false);
        if (tablespaceMap.Length > 0)
            await File.WriteAllTextAsync(Path.Combine(copyRoot, "tablespace_map"), tablespaceMap, cancellationToken).ConfigureAwait(false);

        if (format == BaseBackupFormat.Tar)
        {
            await TarFile.CreateFromDirectoryAsync(copyRoot, Path.Combine(destination, "base.tar"), includeBaseDirectory: false, cancellationToken).ConfigureAwait(false);
            Directory.Delete(copyRoot, recursive: true);
        }

        return new BaseBackupInfo(destination, format, startLsn, stopLsn);
    }

    private static void CopyDataDirectory(string source, string destination)
    {
        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos())
        {
            var target = Path.Combine(destination, entry.Name);
            if (entry is DirectoryInfo folder)
            {
                Directory.CreateDirectory(target);
                if (EmptiedFolders.Contains(entry.Name))
                {
                    // pg_wal keeps its archive_status folder; everything else in these folders is runtime state.
                    if (entry.Name == "pg_wal") Directory.CreateDirectory(Path.Combine(target, "archive_status"));
                    continue;
                }

                CopyDataDirectory(folder.FullName, target);
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
