using DataSync.Core.IO;
using DataSync.Wal;
using DataSync.Wal.Pages;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;

namespace DataSync.Core.Archive;

/// <summary>
/// The local copy of the archive's segments under STATE_DIR/spool: each fetched segment is
/// decompressed, checked (size, magic, page address, timeline no newer than its name's), written under a temporary name,
/// flushed to disk and renamed, so a segment in the spool is always whole, plain and valid, even
/// after a crash in the middle of a fetch.
/// </summary>
public sealed class WalSpool
{
    private const string TemporarySuffix = ".fetching";
    private readonly uint _segmentSize;
    private int _holds;

    /// <param name="segmentSize">
    /// Production's wal_segment_size: a segment whose header gives another is refused on arrival, before it is
    /// copied. 0 takes any valid size (tools that look at a single segment).
    /// </param>
    /// <param name="clearStale">Deletes the half-written files of an interrupted fetch (never valid; fetched again).</param>
    public WalSpool(string directory, uint segmentSize = 0, bool clearStale = true)
    {
        Directory = directory;
        _segmentSize = segmentSize;
        System.IO.Directory.CreateDirectory(directory);
        if (!clearStale) return;
        foreach (var stale in System.IO.Directory.EnumerateFiles(directory, "*" + TemporarySuffix)) File.Delete(stale);
    }

    public string Directory { get; }

    public string PathOf(string segment) => Path.Combine(Directory, segment);

    public bool Contains(string segment) => File.Exists(PathOf(segment));

    /// <summary>The spooled segment <paramref name="segment"/> as a source to read.</summary>
    public WalSegmentSource Source(string segment) => WalSegmentSource.FromFile(PathOf(segment));

    /// <summary>A framer that finds the following segments (for records crossing a segment's end) in this spool.</summary>
    public SegmentFramer Framer() => new(name => Contains(name) ? Source(name) : null);

    /// <summary>
    /// The plain segments in the spool, in WAL order: by segment, then timeline (after a switch the spool may
    /// hold two timelines' copies of a segment; the last one listed is the newest WAL taken).
    /// </summary>
    public IReadOnlyList<string> Segments() =>
        System.IO.Directory.EnumerateFiles(Directory)
            .Select(Path.GetFileName)
            .Where(n => n is { Length: WalSegmentName.HexLength } && WalSegmentName.TryParse(n, out _))
            .Select(n => n!)
            .OrderBy(n => n[8..], StringComparer.Ordinal)
            .ThenBy(n => n[..8], StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// How much the spool folder <paramref name="directory"/> holds in segments: bytes and count, of all of them or of
    /// those from segment <paramref name="from"/> and up to segment <paramref name="through"/> only. Only reads (a CLI
    /// may ask beside a running daemon); an absent folder holds nothing.
    /// </summary>
    public static SpoolUsage UsageOf(string directory, string? through = null, string? from = null)
    {
        if (!System.IO.Directory.Exists(directory)) return new SpoolUsage(0, 0);
        long bytes = 0;
        var count = 0;
        foreach (var file in new DirectoryInfo(directory).EnumerateFiles())
        {
            if (file.Name.Length != WalSegmentName.HexLength || !WalSegmentName.TryParse(file.Name, out _)) continue;
            // Segment order, whatever the timeline (as RemoveBefore compares).
            if (through is not null && string.CompareOrdinal(file.Name, 8, through, 8, 16) > 0) continue;
            if (from is not null && string.CompareOrdinal(file.Name, 8, from, 8, 16) < 0) continue;
            try
            {
                bytes += file.Length;
                count++;
            }
            catch (FileNotFoundException)
            {
                // Trimmed by the daemon while we looked: no longer held.
            }
        }

        return new SpoolUsage(bytes, count);
    }

    /// <summary>The timeline history files in the spool, parsed.</summary>
    public IReadOnlyList<TimelineHistory> Histories() =>
        System.IO.Directory.EnumerateFiles(Directory, "*.history")
            .Where(p => TimelineHistory.IsHistoryFileName(Path.GetFileName(p)))
            .Select(TimelineHistory.ReadFile)
            .OrderBy(h => h.Timeline)
            .ToList();

    /// <summary>
    /// The spooled WAL from the segment holding <paramref name="start"/> on, one copy per segment, as the reader
    /// is to take it: on the newest timeline spooled, with that timeline's history when the spool has it.
    /// </summary>
    public SpooledWal WalFrom(Lsn start, uint segmentSize)
    {
        var first = start.Value / segmentSize;
        var names = Segments()
            .Select(n => WalSegmentName.TryParse(n, out var name) ? name : default)
            .Where(n => n.SegmentNumber(segmentSize) >= first)
            .ToList();
        if (names.Count == 0) return new SpooledWal(this, [], null, segmentSize);
        var timeline = names.Max(n => n.Timeline);
        var history = Histories().FirstOrDefault(h => h.Timeline == timeline);
        var chain = SegmentChain.Choose(names, segmentSize, timeline, history);
        return new SpooledWal(this, chain.Select(link => link.Name.BaseName).ToList(), history, segmentSize);
    }

    /// <summary>
    /// Copies a timeline history file from the archive into the spool under its plain name, undoing an
    /// archive_command's compression (the temporary restores find it there through their restore_command, and the
    /// segment plan follows it). Throws <see cref="WalFormatException"/> when the file does not parse.
    /// </summary>
    public async Task FetchHistoryAsync(IArchiveSource source, ArchiveEntry entry, CancellationToken cancellationToken)
    {
        if (!TimelineHistory.IsArchivedHistoryFileName(entry.Name, out var plainName, out var compression))
            throw new ArgumentException($"'{entry.Name}' is not a timeline history file name", nameof(entry));
        var download = PathOf(entry.Name + ".download" + TemporarySuffix);
        var temporary = PathOf(plainName + TemporarySuffix);
        try
        {
            var where = $"{source.Description}/{entry.Name}";
            string text;
            try
            {
                await using (var input = await source.OpenReadAsync(entry.Name, cancellationToken).ConfigureAwait(false))
                await using (var output = new FileStream(download, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 12))
                {
                    await BoundedCopy.CopyAsync(input, output, BoundedText.HistoryFileLimit, where, cancellationToken).ConfigureAwait(false);
                }

                await using var raw = new FileStream(download, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 12);
                await using var plain = SegmentLoader.Decompress(raw, compression);
                text = await BoundedText.ReadAsync(plain, BoundedText.HistoryFileLimit, where, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is InvalidDataException or ZstdSharp.ZstdException or InvalidOperationException or ArgumentException or NotSupportedException)
            {
                throw new WalFormatException(WalErrorKind.BadCompression, entry.Name, -1, Lsn.Invalid, e.Message, e);
            }

            TimelineHistory.Parse(plainName, text);
            await File.WriteAllTextAsync(temporary, text, cancellationToken).ConfigureAwait(false);
            File.Move(temporary, PathOf(plainName), overwrite: true);
            DirectorySync.Flush(Directory);
        }
        finally
        {
            File.Delete(download);
            File.Delete(temporary);
        }
    }

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
        try
        {
            // Remote or compressed files are first brought here as they are; the loader needs a seekable file.
            // Never more than a segment can take: a plain copy is exactly one segment, a compressed one (incompressible
            // data plus framing) a little more; 1 GiB, the largest segment there is, while the size is not known.
            var limit = _segmentSize == 0 ? 1L << 30 : name.CompressionSuffix.Length == 0 ? _segmentSize : _segmentSize + _segmentSize / 8 + (1 << 16);
            await using (var input = await source.OpenReadAsync(entry.Name, cancellationToken).ConfigureAwait(false))
            await using (var output = new FileStream(download, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                try
                {
                    await BoundedCopy.CopyAsync(input, output, limit, $"{source.Description}/{entry.Name}", cancellationToken).ConfigureAwait(false);
                }
                catch (InvalidDataException e)
                {
                    throw new WalFormatException(WalErrorKind.BadLength, entry.Name, limit, name.StartLsn(Math.Max(_segmentSize, 1u << 20)), e.Message, e);
                }
            }

            // The size the header gives is checked before anything is copied: a header claiming 1 GiB costs nothing.
            if (_segmentSize != 0) CheckSegmentSize(new NamedFileSource(download, entry.Name), name);

            // Decompressed and checked on the way to the temporary file, a chunk at a time: no segment is held in memory.
            await using (var output = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                var header = SegmentLoader.CopyTo(new NamedFileSource(download, entry.Name), output);
                Validate(header, name, entry.Name);
                output.Flush(flushToDisk: true);
            }

            File.Move(temporary, PathOf(segment), overwrite: true);
            DirectorySync.Flush(Directory);
            return segment;
        }
        finally
        {
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

    /// <summary>
    /// Keeps <see cref="RemoveBefore"/> from deleting anything until the returned hold is disposed: a bootstrap's
    /// temporary restore replays segments older than the stream's restart point while the stream goes on.
    /// Holds nest and may be taken and released from any thread.
    /// </summary>
    public IDisposable HoldOlderSegments()
    {
        Interlocked.Increment(ref _holds);
        return new Hold(this);
    }

    /// <summary>
    /// Deletes spooled segments before <paramref name="firstNeeded"/> (every table's checkpoint is past them), unless a hold
    /// keeps them, and always keeps the newest one. A stream that has read everything archived restarts at the start of
    /// a segment not archived yet; the newest spooled segment then still says where fetching goes on, so a restarted
    /// daemon fetches at once from the spool alone (<c>SpoolPrefetch</c>), before its state is read from the local database.
    /// </summary>
    public int RemoveBefore(string firstNeeded)
    {
        if (Volatile.Read(ref _holds) > 0) return 0;
        var removed = 0;
        var segments = Segments();
        foreach (var segment in segments.Take(segments.Count - 1))
        {
            if (string.CompareOrdinal(segment[8..], firstNeeded[8..]) >= 0) continue;
            File.Delete(PathOf(segment));
            removed++;
        }

        return removed;
    }

    /// <summary>Reads the first page header (undoing compression) and refuses a segment size other than production's.</summary>
    private void CheckSegmentSize(NamedFileSource file, WalSegmentName name)
    {
        Span<byte> first = stackalloc byte[WalPageHeader.LongSize];
        int got;
        using (var raw = file.OpenRaw())
        {
            Span<byte> magic = stackalloc byte[4];
            var head = raw.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
            raw.Position = 0;
            try
            {
                using var plain = SegmentLoader.Decompress(raw, SegmentCompressionDetector.FromMagic(magic[..head]));
                got = plain.ReadAtLeast(first, first.Length, throwOnEndOfStream: false);
            }
            catch (Exception e) when (e is InvalidDataException or ZstdSharp.ZstdException or InvalidOperationException or ArgumentException or NotSupportedException)
            {
                throw new WalFormatException(WalErrorKind.BadCompression, file.FileName, 0, Lsn.Invalid, $"cannot decompress: {e.Message}", e);
            }
        }

        // A short or foreign file is left to the full check, which names what is wrong with it.
        if (got < first.Length) return;
        var header = WalPageHeader.Read(first);
        if (header.IsLong && header.SegmentSize != _segmentSize)
        {
            throw new WalFormatException(WalErrorKind.BadPageHeader, file.FileName, 32, name.StartLsn(_segmentSize),
                $"the segment's header gives a segment size of {header.SegmentSize} bytes, but production's WAL segments are {_segmentSize} bytes " +
                "(wal_segment_size, read from the first segment); a file of another cluster, or damaged: remove or replace it in the archive");
        }
    }

    private static void Validate(WalPageHeader header, WalSegmentName name, string fileName)
    {
        var expectedStart = name.StartLsn(header.SegmentSize);
        if (header.PageAddress != expectedStart)
        {
            throw new WalFormatException(WalErrorKind.BadPageHeader, fileName, 8, header.PageAddress,
                $"the segment's first page is at {header.PageAddress}, but its name says {expectedStart}");
        }

        // A new timeline's first segment begins with a copy of the old timeline's WAL up to the switch point,
        // page headers included: its first page may carry an older timeline, never a newer one.
        if (header.Timeline > name.Timeline || header.Timeline == 0)
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

    private sealed class Hold(WalSpool spool) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) Interlocked.Decrement(ref spool._holds);
        }
    }
}
