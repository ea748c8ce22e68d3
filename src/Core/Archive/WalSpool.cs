using System.Buffers;
using DataSync.Core.IO;
using DataSync.Wal;
using DataSync.Wal.Pages;
using DataSync.Wal.Segments;

namespace DataSync.Core.Archive;

/// <summary>
/// The local copy of the archive's segments under STATE_DIR/spool: each fetched segment is
/// decompressed, checked (size, magic, page address, timeline), written under a temporary name,
/// flushed to disk and renamed, so a segment in the spool is always whole, plain and valid, even
/// after a crash in the middle of a fetch.
/// </summary>
public sealed class WalSpool
{
    private const string TemporarySuffix = ".fetching";

    public WalSpool(string directory)
    {
        Directory = directory;
        System.IO.Directory.CreateDirectory(directory);
        // Half-written files of an interrupted fetch are never valid; they are fetched again.
        foreach (var stale in System.IO.Directory.EnumerateFiles(directory, "*" + TemporarySuffix)) File.Delete(stale);
    }

    public string Directory { get; }

    public string PathOf(string segment) => Path.Combine(Directory, segment);

    public bool Contains(string segment) => File.Exists(PathOf(segment));

    /// <summary>The plain segments in the spool, in WAL order.</summary>
    public IReadOnlyList<string> Segments() =>
        System.IO.Directory.EnumerateFiles(Directory)
            .Select(Path.GetFileName)
            .Where(n => n is { Length: WalSegmentName.HexLength } && WalSegmentName.TryParse(n, out _))
            .Order(StringComparer.Ordinal)
            .ToList()!;

    /// <summary>
    /// Copies <paramref name="entry"/> from the archive into the spool as a plain segment and returns its name.
    /// Throws <see cref="WalFormatException"/> when the file is not a valid segment of the name it carries.
    /// </summary>
    public async Task<string> FetchAsync(IArchiveSource source, ArchiveEntry entry, CancellationToken cancellationToken)
    {
        if (!WalSegmentName.TryParse(entry.Name, out var name))
            throw new ArgumentException($"'{entry.Name}' is not a WAL segment name", nameof(entry));
        var segment = name.BaseName;
        // Unique names: the watcher and a bootstrap may fetch the same segment at once; the last rename wins, with equal content.
        var unique = Guid.NewGuid().ToString("N")[..12];
        var download = PathOf($"{entry.Name}.{unique}.download{TemporarySuffix}");
        var temporary = PathOf($"{segment}.{unique}{TemporarySuffix}");
        var buffer = Array.Empty<byte>();
        try
        {
            // Remote or compressed files are first brought here as they are; the loader needs a seekable file.
            await using (var input = await source.OpenReadAsync(entry.Name, cancellationToken).ConfigureAwait(false))
            await using (var output = new FileStream(download, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                await input.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
            }

            var size = SegmentLoader.Load(new NamedFileSource(download, entry.Name), ref buffer);
            Validate(buffer.AsSpan(0, size), name, entry.Name);

            await using (var output = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                await output.WriteAsync(buffer.AsMemory(0, size), cancellationToken).ConfigureAwait(false);
                output.Flush(flushToDisk: true);
            }

            File.Move(temporary, PathOf(segment), overwrite: true);
            DirectorySync.Flush(Directory);
            return segment;
        }
        finally
        {
            if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
            File.Delete(download);
            File.Delete(temporary);
        }
    }

    /// <summary>
    /// Deletes <paramref name="bad"/> and every spooled segment after it, so that they are fetched again: a
    /// spooled segment that fails decoding may have been replaced by a good copy in the archive meanwhile,
    /// and fetching always continues after the newest spooled segment.
    /// </summary>
    public int RemoveFrom(string bad)
    {
        if (!WalSegmentName.TryParse(bad, out var name)) return 0;
        var removed = 0;
        foreach (var segment in Segments())
        {
            if (string.CompareOrdinal(segment[8..], name.BaseName[8..]) < 0) continue;
            File.Delete(PathOf(segment));
            removed++;
        }

        return removed;
    }

    /// <summary>Deletes spooled segments before <paramref name="firstNeeded"/> (every table's checkpoint is past them).</summary>
    public int RemoveBefore(string firstNeeded)
    {
        var removed = 0;
        foreach (var segment in Segments())
        {
            if (string.CompareOrdinal(segment[8..], firstNeeded[8..]) >= 0) continue;
            File.Delete(PathOf(segment));
            removed++;
        }

        return removed;
    }

    private static void Validate(ReadOnlySpan<byte> segment, WalSegmentName name, string fileName)
    {
        var header = WalPageHeader.Read(segment);
        var expectedStart = name.StartLsn(header.SegmentSize);
        if (header.PageAddress != expectedStart)
        {
            throw new WalFormatException(WalErrorKind.BadPageHeader, fileName, 8, header.PageAddress,
                $"the segment's first page is at {header.PageAddress}, but its name says {expectedStart}");
        }

        if (header.Timeline != name.Timeline)
        {
            throw new WalFormatException(WalErrorKind.UnexpectedTimeline, fileName, 4, header.PageAddress,
                $"the segment's first page is on timeline {header.Timeline}, but its name says {name.Timeline}");
        }
    }

    /// <summary>A downloaded file read under the archive name it came from, so compression suffixes and messages match.</summary>
    private sealed class NamedFileSource(string path, string archiveName) : WalSegmentSource(archiveName)
    {
        public override Stream OpenRaw() => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
    }
}
