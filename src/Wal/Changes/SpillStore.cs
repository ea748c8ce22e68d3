using System.Globalization;

namespace DataSync.Wal.Changes;

/// <summary>
/// The folder (under STATE_DIR) where transactions too large to keep in memory are written. One
/// file per transaction, deleted when the transaction is emitted or dropped. Spill files never
/// outlive the process that wrote them: decoding restarts from WAL after a crash, so whatever a
/// previous run left behind is an orphan and <see cref="SweepOrphans"/> removes it.
/// </summary>
public sealed class SpillStore
{
    public const string FileExtension = ".spill";

    private long _sequence;

    public SpillStore(string directory)
    {
        Directory = directory;
        System.IO.Directory.CreateDirectory(directory);
    }

    public string Directory { get; }

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
        return new FileStream(Path.Combine(Directory, name), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None,
            bufferSize: 1 << 16, FileOptions.DeleteOnClose | FileOptions.SequentialScan);
    }
}
