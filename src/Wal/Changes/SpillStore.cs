using System.Globalization;

namespace DataSync.Wal.Changes;

/// <summary>
/// The folder (under STATE_DIR) where transactions too large to keep in memory are written. One
/// file per transaction, deleted when the transaction is emitted or dropped. Spill files never
/// outlive the process that wrote them: decoding restarts from WAL after a crash, so whatever a
/// previous run left behind is an orphan and <see cref="SweepOrphans"/> removes it.
/// </summary>
/// <remarks>
/// <see cref="BytesWritten"/> and <see cref="FilesCreated"/> count every write into this store's files since it
/// was made, whichever transaction and thread wrote it: a test reads them before and after a run to check that
/// a transaction's changes are written once (bytes written equal to the bytes it spilled, one file), however
/// many segments the transaction spans. Counting is an interlocked add per write, nothing allocated.
/// </remarks>
public sealed class SpillStore
{
    public const string FileExtension = ".spill";

    private long _sequence;
    private long _bytesWritten;
    private long _filesCreated;

    public SpillStore(string directory)
    {
        Directory = directory;
        System.IO.Directory.CreateDirectory(directory);
    }

    public string Directory { get; }

    /// <summary>Bytes written to spill files of this store so far (entries as stored, over all files, kept or deleted since).</summary>
    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    /// <summary>Spill files created by this store so far: one per transaction spilled (a spilled transaction keeps its file).</summary>
    public long FilesCreated => Interlocked.Read(ref _filesCreated);

    /// <summary>Counts bytes just written to one of this store's files.</summary>
    internal void CountWritten(long bytes) => Interlocked.Add(ref _bytesWritten, bytes);

    /// <summary>Deletes every spill file in the folder; call once at start-up, before decoding.</summary>
    /// <returns>How many files were removed.</returns>
    public int SweepOrphans()
    {
        var removed = 0;
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*" + FileExtension))
        {
            File.Delete(file);
            removed++;
        }

        return removed;
    }

    /// <summary>The spill files that exist now (for status and tests).</summary>
    public IReadOnlyList<string> Files() => System.IO.Directory.GetFiles(Directory, "*" + FileExtension);

    /// <summary>Creates the spill file of transaction <paramref name="xid"/>, open for appending and reading back.</summary>
    internal FileStream Create(uint xid)
    {
        var name = string.Create(CultureInfo.InvariantCulture,
            $"xid-{xid}-{Environment.ProcessId}-{Interlocked.Increment(ref _sequence)}{FileExtension}");
        // DeleteOnClose: disposing the stream is the whole clean-up, whatever path ends the transaction.
        var file = new FileStream(Path.Combine(Directory, name), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None,
            bufferSize: 1 << 16, FileOptions.DeleteOnClose | FileOptions.SequentialScan);
        Interlocked.Increment(ref _filesCreated);
        return file;
    }
}
