using System.Formats.Tar;
using DataSync.Core.Archive.Sftp;
using DataSync.Core.IO;

namespace DataSync.Core.Bootstrap;

/// <summary>
/// Base backups in a folder on the backup machine, one per subfolder (plain, with <c>backup_label</c>
/// at its root, or <c>base.tar</c> / <c>.tar.gz</c> / <c>.tar.lz4</c> / <c>.tar.zst</c>). The newest is
/// found by reading the labels over sftp (remembered per folder, file and size, since a compressed tar
/// must be read up to its label), then downloaded into STATE_DIR/base-backups under a temporary name,
/// flushed to disk and renamed, so a copy there is always whole. A copy is deleted when the bootstrap
/// releases it; copies left by a stopped run are deleted when the next one makes this source.
/// </summary>
public sealed class SftpBaseBackupSource : IBaseBackupSource
{
    private const string PartialSuffix = ".downloading";
    private readonly SftpConnection _connection;
    private readonly Dictionary<(string Folder, string File, long Size), BackupLabel> _labels = new();

    // The archive watcher (for the label) and the bootstrapper (for the files) may ask at the same time.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly IProgress<string>? _notices;
    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);

    /// <param name="notices">Told, once per folder and problem, of a backup skipped because its label cannot be read.</param>
    public SftpBaseBackupSource(SftpConnection connection, string stateDirectory, IProgress<string>? notices = null)
    {
        _connection = connection;
        _notices = notices;
        DownloadDirectory = Path.Combine(stateDirectory, "base-backups");
        if (Directory.Exists(DownloadDirectory)) Directory.Delete(DownloadDirectory, recursive: true);
    }

    /// <summary>Where downloaded backups are kept while a bootstrap needs them.</summary>
    public string DownloadDirectory { get; }

    public string Description => _connection.Server.ToString();

    public async Task<BaseBackup> NewestAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await NewestLockedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Release(BaseBackup backup)
    {
        var folder = Path.GetFullPath(backup.Directory);
        if (Path.GetDirectoryName(folder) != Path.GetFullPath(DownloadDirectory)) return;
        _gate.Wait();
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        finally
        {
            _gate.Release();
        }
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    private async Task<BaseBackup> NewestLockedAsync(CancellationToken cancellationToken)
    {
        var (folder, layout, label) = await FindNewestAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"no base backup found in BASE_BACKUP_DIR '{Description}'");
        var target = ContainedPath.Resolve(DownloadDirectory, folder, Description);
        foreach (var other in Directory.Exists(DownloadDirectory) ? Directory.EnumerateDirectories(DownloadDirectory) : [])
            if (other != target) Directory.Delete(other, recursive: true);

        if (!Directory.Exists(target))
        {
            var partial = target + PartialSuffix;
            // A download that failed earlier in this run starts over.
            if (Directory.Exists(partial)) Directory.Delete(partial, recursive: true);
            Directory.CreateDirectory(partial);
            var remote = _connection.Server.Below(folder);
            if (layout == BaseBackupLayout.Plain)
            {
                await DownloadTreeAsync(remote, partial, atRoot: true, cancellationToken).ConfigureAwait(false);
                await DownloadTablespacesAsync(remote, partial, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // base.tar, a tablespace's <oid>.tar with the same compression, and backup_manifest; nothing else is needed.
                var file = BaseBackup.TarFiles.First(t => t.Layout == layout).File;
                var suffix = file["base.tar".Length..];
                foreach (var entry in await _connection.ListAsync(remote, cancellationToken).ConfigureAwait(false))
                {
                    if (entry.IsDirectory || entry.IsLink) continue;
                    var wanted = entry.Name == file || entry.Name == BaseBackup.ManifestFileName ||
                                 (entry.Name.EndsWith(".tar" + suffix, StringComparison.Ordinal) && entry.Name[..^(".tar" + suffix).Length].All(char.IsAsciiDigit));
                    if (wanted)
                        await DownloadFileAsync(remote + "/" + entry.Name, ContainedPath.Resolve(partial, entry.Name, remote), entry.Size, cancellationToken).ConfigureAwait(false);
                }
            }

            DirectorySync.Flush(partial);
            Directory.Move(partial, target);
            DirectorySync.Flush(DownloadDirectory);
        }

        var backup = BaseBackup.TryOpen(target) ?? throw new InvalidDataException($"the download of base backup {folder} from {Description} is not a base backup");
        if (backup.Label.StartLsn != label.StartLsn)
            throw new InvalidDataException($"base backup {folder} changed on {Description} while it was downloaded; it is fetched again next time");
        return backup;
    }

    /// <summary>The subfolder holding the backup with the latest start LSN, how it is stored, and its label.</summary>
    private async Task<(string Folder, BaseBackupLayout Layout, BackupLabel Label)?> FindNewestAsync(CancellationToken cancellationToken)
    {
        (string, BaseBackupLayout, BackupLabel)? newest = null;
        var root = _connection.Server;
        foreach (var folder in (await _connection.ListAsync(root.Path, cancellationToken).ConfigureAwait(false)).Where(e => e.IsDirectory))
        {
            if (folder.Name.EndsWith(PartialSuffix, StringComparison.Ordinal)) continue;
            var files = (await _connection.ListAsync(root.Below(folder.Name), cancellationToken).ConfigureAwait(false))
                .Where(e => !e.IsDirectory && !e.IsLink).ToDictionary(e => e.Name, e => e.Size, StringComparer.Ordinal);
            BaseBackupLayout layout;
            string file;
            if (files.ContainsKey("backup_label"))
            {
                (file, layout) = ("backup_label", BaseBackupLayout.Plain);
            }
            else if (BaseBackup.TarFiles.FirstOrDefault(t => files.ContainsKey(t.File)) is { File: not null } tar)
            {
                (file, layout) = tar;
            }
            else
            {
                continue;
            }

            var key = (folder.Name, file, files[file]);
            if (!_labels.TryGetValue(key, out var label))
            {
                try
                {
                    label = await ReadLabelAsync(root.Below(folder.Name) + "/" + file, layout, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is FormatException or InvalidDataException or EndOfStreamException or ZstdSharp.ZstdException)
                {
                    // One bad backup must not keep the others from being used: skipped, told once.
                    if (_reported.Add($"{folder.Name}/{file}/{files[file]}")) _notices?.Report($"base backup {folder.Name} on {Description} is skipped: {e.Message}");
                    continue;
                }

                _labels[key] = label;
            }

            if (newest is null || label.StartLsn > newest.Value.Item3.StartLsn) newest = (folder.Name, layout, label);
        }

        return newest;
    }

    private async Task<BackupLabel> ReadLabelAsync(string path, BaseBackupLayout layout, CancellationToken cancellationToken)
    {
        var source = $"{_connection.Server.Authority}:{path}";
        var file = await _connection.OpenReadAsync(path, cancellationToken).ConfigureAwait(false);
        if (layout == BaseBackupLayout.Plain)
        {
            await using (file)
                return BackupLabel.Parse(await BoundedText.ReadAsync(file, BoundedText.BackupLabelLimit, source, cancellationToken).ConfigureAwait(false), source);
        }

        await using var stream = BaseBackup.Decompress(file, layout);
        await using var reader = new TarReader(stream);
        while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
        {
            if (BaseBackup.NormalizeEntryName(entry.Name) != "backup_label" || entry.DataStream is not { } data) continue;
            var labelSource = source + ":backup_label";
            return BackupLabel.Parse(await BoundedText.ReadAsync(data, BoundedText.BackupLabelLimit, labelSource, cancellationToken).ConfigureAwait(false), labelSource);
        }

        throw new InvalidDataException($"{source} has no backup_label: not a base backup");
    }

    /// <summary>A plain backup's files and folders; pg_wal's contents are left behind, since WAL comes from the archive.</summary>
    private async Task DownloadTreeAsync(string remote, string local, bool atRoot, CancellationToken cancellationToken)
    {
        foreach (var entry in await _connection.ListAsync(remote, cancellationToken).ConfigureAwait(false))
        {
            var target = ContainedPath.Resolve(local, entry.Name, remote);
            if (entry.IsLink)
            {
                // pg_tblspc's links are followed by DownloadTablespacesAsync; pg_wal's contents are not needed; no other link is.
                if (atRoot && entry.Name == "pg_wal") Directory.CreateDirectory(target);
                continue;
            }

            if (entry.IsDirectory)
            {
                Directory.CreateDirectory(target);
                if (!(atRoot && entry.Name == "pg_wal"))
                    await DownloadTreeAsync(remote + "/" + entry.Name, target, atRoot: false, cancellationToken).ConfigureAwait(false);
                DirectorySync.Flush(target);
            }
            else
            {
                await DownloadFileAsync(remote + "/" + entry.Name, target, entry.Size, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <param name="listedSize">The size the listing gave: a file that grows past it while it is read is refused (it is being rewritten, or the server lies).</param>
    /// <summary>
    /// A plain backup's tablespaces: each pg_tblspc/&lt;oid&gt; link on the server is followed (the server resolves
    /// it) and what it leads to, when it holds only PG_&lt;version&gt; folders, is downloaded into
    /// <see cref="PlainBackupCopier.DownloadedTablespaces"/>/&lt;oid&gt; with a relative link to it in its place.
    /// </summary>
    private async Task DownloadTablespacesAsync(string remote, string local, CancellationToken cancellationToken)
    {
        var links = Path.Combine(local, "pg_tblspc");
        if (!Directory.Exists(links)) return;
        foreach (var entry in await _connection.ListAsync(remote + "/pg_tblspc", cancellationToken).ConfigureAwait(false))
        {
            if (!entry.IsLink && !entry.IsDirectory) continue;
            var where = $"{_connection.Server.Authority}:{remote}/pg_tblspc/{entry.Name}";
            if (!TablespaceLinks.IsTablespaceLinkName("pg_tblspc/" + entry.Name))
                throw new InvalidDataException($"{where}: pg_tblspc holds only links named by a tablespace oid; refused");
            var contents = await _connection.ListAsync(remote + "/pg_tblspc/" + entry.Name, cancellationToken).ConfigureAwait(false);
            if (contents.Any(c => !c.IsDirectory || !c.Name.StartsWith("PG_", StringComparison.Ordinal)))
                throw new InvalidDataException($"tablespace {entry.Name}: {where} leads to a folder that holds more than PG_<version> folders; not a tablespace, refused");
            var copy = ContainedPath.Resolve(Path.Combine(local, PlainBackupCopier.DownloadedTablespaces), entry.Name, where);
            Directory.CreateDirectory(copy);
            await DownloadTreeAsync(remote + "/pg_tblspc/" + entry.Name, copy, atRoot: false, cancellationToken).ConfigureAwait(false);
            var link = Path.Combine(links, entry.Name);
            if (Directory.Exists(link)) Directory.Delete(link, recursive: true);
            Directory.CreateSymbolicLink(link, Path.Combine("..", PlainBackupCopier.DownloadedTablespaces, entry.Name));
        }
    }

    private async Task DownloadFileAsync(string remote, string local, long listedSize, CancellationToken cancellationToken)
    {
        await using var input = await _connection.OpenReadAsync(remote, cancellationToken).ConfigureAwait(false);
        await using var output = new FileStream(local, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        await BoundedCopy.CopyAsync(input, output, listedSize, $"{_connection.Server.Authority}:{remote}", cancellationToken).ConfigureAwait(false);
        output.Flush(flushToDisk: true);
    }
}
