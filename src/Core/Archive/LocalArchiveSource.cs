namespace DataSync.Core.Archive;

/// <summary>A WAL archive in a local or mounted folder.</summary>
public sealed class LocalArchiveSource(string directory) : IArchiveSource
{
    public string Description => directory;

    public Task<IReadOnlyList<ArchiveEntry>> ListAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"the WAL archive '{directory}' does not exist or is not mounted");
        var entries = new List<ArchiveEntry>();
        foreach (var file in new DirectoryInfo(directory).EnumerateFiles())
        {
            long length;
            try
            {
                length = file.Length;
            }
            catch (FileNotFoundException)
            {
                // Gone between the listing and its size: an archiver that writes a temporary name and renames it
                // (archive_command 'cp %p dir/%f.tmp && mv …') leaves that for an instant. The segment itself is
                // listed under its own name at this scan or the next.
                continue;
            }

            entries.Add(new ArchiveEntry(file.Name, length));
        }

        return Task.FromResult<IReadOnlyList<ArchiveEntry>>(entries);
    }

    public Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken)
    {
        if (name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
            throw new ArgumentException($"'{name}' is not a file name in the archive", nameof(name));
        Stream stream = new FileStream(Path.Combine(directory, name), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Task.FromResult(stream);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
