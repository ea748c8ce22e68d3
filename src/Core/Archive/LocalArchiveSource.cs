namespace DataSync.Core.Archive;

/// <summary>A WAL archive in a local or mounted folder.</summary>
public sealed class LocalArchiveSource(string directory) : IArchiveSource
{
    public string Description => directory;

    public Task<IReadOnlyList<ArchiveEntry>> ListAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"the WAL archive '{directory}' does not exist or is not mounted");
        IReadOnlyList<ArchiveEntry> entries = new DirectoryInfo(directory).EnumerateFiles()
            .Select(f => new ArchiveEntry(f.Name, f.Length))
            .ToList();
        return Task.FromResult(entries);
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
