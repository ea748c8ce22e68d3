using System.Buffers.Binary;
using DataSync.Wal;
using DataSync.Wal.Pages;
using DataSync.Wal.Segments;

namespace DataSync.Core.Archive;

/// <summary>
/// Finds production's wal_segment_size (initdb --wal-segsize: a power of two from 1 MiB to 1 GiB), which names,
/// LSN arithmetic, the spool and the reader all depend on. It is in the long page header that begins every
/// segment: taken from a segment already in the spool, else from the first segment in the archive. The spool
/// then refuses any segment whose header gives another size.
/// </summary>
public static class WalSegmentSizeProbe
{
    /// <summary>The size when neither the spool nor the archive holds a segment yet (PostgreSQL's default).</summary>
    public const uint DefaultSize = 16 * 1024 * 1024;

    /// <returns>The size, and where it was read (for the log); the default with a null source when nothing could be read.</returns>
    public static async Task<(uint Size, string? Source)> DetectAsync(IArchiveSource archive, string spoolDirectory, CancellationToken cancellationToken)
    {
        if (Directory.Exists(spoolDirectory))
        {
            foreach (var path in Directory.EnumerateFiles(spoolDirectory).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(path);
                if (name.Length != WalSegmentName.HexLength || !WalSegmentName.TryParse(name, out _)) continue;
                await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);
                return (await ReadSizeAsync(file, path, cancellationToken).ConfigureAwait(false), path);
            }
        }

        IReadOnlyList<ArchiveEntry> listing;
        try
        {
            listing = await archive.ListAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // An archive not mounted yet must not keep the daemon from starting: its watcher waits for it with
            // backoff and says so. Until a segment is seen the default stands, as for an empty archive.
            return (DefaultSize, null);
        }

        var first = listing
            .Where(e => WalSegmentName.TryParse(e.Name, out var n) && !n.IsPartial)
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        if (first is null) return (DefaultSize, null);
        WalSegmentName.TryParse(first.Name, out var segment);
        await using var raw = await archive.OpenReadAsync(first.Name, cancellationToken).ConfigureAwait(false);
        await using var plain = SegmentLoader.Decompress(raw, SegmentCompressionDetector.FromSuffix(segment.CompressionSuffix));
        var source = $"{archive.Description}/{first.Name}";
        return (await ReadSizeAsync(plain, source, cancellationToken).ConfigureAwait(false), source);
    }

    private static async Task<uint> ReadSizeAsync(Stream stream, string source, CancellationToken cancellationToken)
    {
        var header = new byte[WalPageHeader.LongSize];
        var got = await stream.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (got < header.Length || BinaryPrimitives.ReadUInt16LittleEndian(header) != WalPageHeader.Pg18Magic)
            throw new WalFormatException(WalErrorKind.BadPageHeader, source, 0, Lsn.Invalid,
                "cannot read the WAL segment size: the file does not begin with a PostgreSQL 18 long page header");
        var parsed = WalPageHeader.Read(header);
        if (!parsed.IsLong || !WalPageHeader.IsValidSegmentSize(parsed.SegmentSize))
            throw new WalFormatException(WalErrorKind.BadPageHeader, source, 32, parsed.PageAddress,
                $"segment size {parsed.SegmentSize} is not a power of two between 1 MiB and 1 GiB");
        return parsed.SegmentSize;
    }
}
