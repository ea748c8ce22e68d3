namespace DataSync.Wal;

/// <summary>
/// Bad WAL input: names the file, the byte offset in that file (after decompression) and the WAL
/// position, so a FAILED log line can point at the exact spot.
/// </summary>
/// <remarks>
/// This is a fatal format error for the stream it came from, never a transient one: reading the
/// same bytes again gives the same result.
/// </remarks>
public sealed class WalFormatException : Exception
{
    public WalFormatException(WalErrorKind kind, string fileName, long fileOffset, Lsn lsn, string detail, Exception? inner = null)
        : base(Describe(kind, fileName, fileOffset, lsn, detail), inner)
    {
        Kind = kind;
        FileName = fileName;
        FileOffset = fileOffset;
        Lsn = lsn;
        Detail = detail;
    }

    public WalErrorKind Kind { get; }

    /// <summary>The file name (without directory) the bad bytes came from.</summary>
    public string FileName { get; }

    /// <summary>Byte offset in the (decompressed) file; -1 when the problem is not at one place in a file.</summary>
    public long FileOffset { get; }

    /// <summary>WAL position of the bad bytes, or of the record they belong to; <see cref="Wal.Lsn.Invalid"/> when unknown.</summary>
    public Lsn Lsn { get; }

    public string Detail { get; }

    private static string Describe(WalErrorKind kind, string fileName, long fileOffset, Lsn lsn, string detail) =>
        $"{fileName}: {kind} at offset {fileOffset} (LSN {lsn}): {detail}";
}
