using System.Buffers;
using System.IO.Compression;
using DataSync.Wal.Pages;
using K4os.Compression.LZ4.Streams;

namespace DataSync.Wal.Segments;

/// <summary>
/// Brings one segment into a buffer, undoing an archive_command's compression. The size to expect
/// comes from the segment's own long page header, and no more than that is ever read or allocated,
/// whatever the file claims.
/// </summary>
/// <remarks>
/// The reader asks for the segment a chunk at a time, just ahead of the page it is about to
/// check, so each chunk is still in the CPU cache when its records are checksummed; reading the
/// whole 16 MiB first and then walking it would pull every byte from memory twice. The length of
/// the file is checked when the segment is completed (<see cref="Complete"/>).
/// </remarks>
public sealed class SegmentLoader : IDisposable
{
    private const int Chunk = 64 * 1024;

    private readonly WalSegmentSource _source;
    private readonly Stream _raw;
    private readonly Stream _stream;
    private readonly bool _growing;
    private byte[] _buffer;

    private SegmentLoader(WalSegmentSource source, Stream raw, Stream stream, byte[] buffer, bool growing, int size, WalPageHeader header)
    {
        _source = source;
        _raw = raw;
        _stream = stream;
        _buffer = buffer;
        _growing = growing;
        Size = size;
        Header = header;
        Loaded = WalPageHeader.LongSize;
    }

    /// <summary>The segment size from the long page header; the file must hold exactly this many bytes.</summary>
    public int Size { get; }

    /// <summary>Bytes of the segment in the buffer so far.</summary>
    public int Loaded { get; private set; }

    public WalPageHeader Header { get; }

    /// <summary>
    /// The buffer the segment is loaded into: the one given to <see cref="Open"/>, or, for a loader opened
    /// <c>growing</c>, a larger one once more was asked for than it holds (look again after each <see cref="EnsureLoaded"/>).
    /// </summary>
    public byte[] Buffer => _buffer;

    /// <summary>
    /// Opens <paramref name="source"/> and reads its long page header into <paramref name="buffer"/>
    /// (replaced by one rented from <see cref="SegmentBuffers"/> when it is smaller than the
    /// segment; the caller gives that one back there when done).
    /// </summary>
    /// <param name="growing">
    /// Only part of the segment will be read (the head of the segment after the one being framed, as far as a record
    /// crossing into it needs): the buffer starts small and grows, with plain arrays left to the collector, as far
    /// as <see cref="EnsureLoaded"/> asks; <see cref="Buffer"/> is then the one to read, and none of it is pooled.
    /// </param>
    public static SegmentLoader Open(WalSegmentSource source, ref byte[] buffer, bool growing = false)
    {
        Span<byte> first = stackalloc byte[WalPageHeader.LongSize];
        var (raw, stream, size, header) = OpenChecked(source, first);
        // Pooled: a fresh 16 MiB array per reader would cost page faults on every first touch. A
        // buffer that is too small is dropped, not returned: it may be in use elsewhere.
        if (growing)
        {
            if (buffer.Length < Math.Min(size, Chunk)) buffer = GC.AllocateUninitializedArray<byte>(Math.Min(size, Chunk));
        }
        else if (buffer.Length < size)
        {
            buffer = SegmentBuffers.Shared.Rent(size);
        }

        first.CopyTo(buffer);
        return new SegmentLoader(source, raw, stream, buffer, growing, size, header);
    }

    /// <summary>
    /// Copies the segment in <paramref name="source"/> to <paramref name="destination"/> with the compression undone,
    /// checking what <see cref="Load"/> checks (compression, first page header, exactly one segment's bytes) but
    /// holding no more than a small buffer of it at a time. Returns its first page header. Errors of the source are
    /// <see cref="WalFormatException"/>s; errors writing to <paramref name="destination"/> are left as they are.
    /// </summary>
    public static WalPageHeader CopyTo(WalSegmentSource source, Stream destination)
    {
        Span<byte> first = stackalloc byte[WalPageHeader.LongSize];
        var (raw, stream, size, header) = OpenChecked(source, first);
        var chunk = ArrayPool<byte>.Shared.Rent(Chunk);
        try
        {
            destination.Write(first);
            var copied = first.Length;
            while (copied < size)
            {
                int n;
                try
                {
                    n = stream.Read(chunk, 0, Math.Min(chunk.Length, size - copied));
                }
                catch (Exception e)
                {
                    throw Classify(source, e, copied);
                }

                if (n == 0)
                    throw new WalFormatException(WalErrorKind.Truncated, source.FileName, copied, header.PageAddress + (ulong)copied,
                        $"file ends after {copied} bytes; its header says segments are {size} bytes");
                destination.Write(chunk, 0, n);
                copied += n;
            }

            CheckNothingAfter(source, stream, size, header);
            return header;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
            stream.Dispose();
            raw.Dispose();
        }
    }

    /// <summary>Opens the file, undoes its compression and reads and checks its long page header into <paramref name="first"/>.</summary>
    private static (Stream Raw, Stream Stream, int Size, WalPageHeader Header) OpenChecked(WalSegmentSource source, Span<byte> first)
    {
        Stream? raw = null;
        Stream? stream = null;
        try
        {
            raw = source.OpenRaw();
            Span<byte> head = stackalloc byte[4];
            var headLength = raw.ReadAtLeast(head, 4, throwOnEndOfStream: false);
            var byMagic = SegmentCompressionDetector.FromMagic(head[..headLength]);
            var bySuffix = SegmentCompressionDetector.FromSuffix(source.Name.CompressionSuffix);
            if (bySuffix != SegmentCompression.None && byMagic != bySuffix)
                throw new WalFormatException(WalErrorKind.BadCompression, source.FileName, 0, Lsn.Invalid,
                    $"the name says {bySuffix} but the file does not start with its magic bytes");
            raw.Position = 0;
            stream = Decompress(raw, byMagic);
            var (size, header) = ReadHeader(source, stream, first);
            // A plain file shorter than the size its header claims is cut short (or lies): refused before a buffer
            // of the claimed size (up to 1 GiB) is taken.
            if (byMagic == SegmentCompression.None && raw.Length < size)
                throw new WalFormatException(WalErrorKind.Truncated, source.FileName, raw.Length, header.PageAddress + (ulong)raw.Length,
                    $"file ends after {raw.Length} bytes; its header says segments are {size} bytes");
            return (raw, stream, size, header);
        }
        catch (Exception e)
        {
            stream?.Dispose();
            raw?.Dispose();
            throw Classify(source, e, 0);
        }
    }

    /// <summary>Makes sure the first <paramref name="end"/> bytes are in the buffer (reading a chunk ahead).</summary>
    public void EnsureLoaded(int end)
    {
        if (end <= Loaded) return;
        var target = Math.Min(Size, (end + Chunk - 1) / Chunk * Chunk);
        if (target > _buffer.Length)
        {
            if (!_growing) throw new InvalidOperationException($"the segment buffer holds {_buffer.Length} bytes, less than the {Size}-byte segment");
            var grown = GC.AllocateUninitializedArray<byte>(Math.Min(Size, Math.Max(target, _buffer.Length * 2)));
            _buffer.AsSpan(0, Loaded).CopyTo(grown);
            _buffer = grown;
        }

        try
        {
            while (Loaded < target)
            {
                var n = _stream.Read(_buffer, Loaded, target - Loaded);
                if (n == 0)
                    throw new WalFormatException(WalErrorKind.Truncated, _source.FileName, Loaded, Header.PageAddress + (ulong)Loaded,
                        $"file ends after {Loaded} bytes; its header says segments are {Size} bytes");
                Loaded += n;
            }
        }
        catch (Exception e)
        {
            throw Classify(_source, e, Loaded);
        }
    }

    /// <summary>Reads the rest and checks the file holds exactly one segment.</summary>
    public void Complete()
    {
        EnsureLoaded(Size);
        CheckNothingAfter(_source, _stream, Size, Header);
    }

    private static void CheckNothingAfter(WalSegmentSource source, Stream stream, int size, WalPageHeader header)
    {
        int extra;
        try
        {
            Span<byte> probe = stackalloc byte[1];
            extra = stream.Read(probe);
        }
        catch (Exception e)
        {
            throw Classify(source, e, size);
        }

        if (extra != 0)
            throw new WalFormatException(WalErrorKind.BadLength, source.FileName, size, header.PageAddress + (ulong)size,
                $"file is longer than the {size}-byte segment size its header gives");
    }

    /// <summary>Reads a whole segment at once; returns its size.</summary>
    public static int Load(WalSegmentSource source, ref byte[] buffer)
    {
        using var loader = Open(source, ref buffer);
        loader.Complete();
        return loader.Size;
    }

    public void Dispose()
    {
        _stream.Dispose();
        _raw.Dispose();
    }

    private static Exception Classify(WalSegmentSource source, Exception e, long offset) => e switch
    {
        WalFormatException => e,
        InvalidDataException or ZstdSharp.ZstdException or InvalidOperationException or ArgumentException or NotSupportedException =>
            new WalFormatException(WalErrorKind.BadCompression, source.FileName, offset, Lsn.Invalid, $"cannot decompress: {e.Message}", e),
        IOException or UnauthorizedAccessException =>
            new WalFormatException(WalErrorKind.Unreadable, source.FileName, offset, Lsn.Invalid, e.Message, e),
        _ => e,
    };

    /// <summary>A stream of <paramref name="raw"/>'s bytes with the compression undone (raw is left open).</summary>
    public static Stream Decompress(Stream raw, SegmentCompression compression) => compression switch
    {
        SegmentCompression.Gzip => new GZipStream(raw, CompressionMode.Decompress, leaveOpen: true),
        SegmentCompression.Zstd => new ZstdSharp.DecompressionStream(raw, leaveOpen: true),
        SegmentCompression.Lz4Frame => LZ4Stream.Decode(raw, leaveOpen: true),
        _ => new NonClosingStream(raw),
    };

    private static (int Size, WalPageHeader Header) ReadHeader(WalSegmentSource source, Stream stream, Span<byte> first)
    {
        var got = stream.ReadAtLeast(first, WalPageHeader.LongSize, throwOnEndOfStream: false);
        if (got < WalPageHeader.LongSize)
            throw new WalFormatException(WalErrorKind.Truncated, source.FileName, got, Lsn.Invalid,
                $"file holds {got} bytes, less than a segment's first page header");
        var header = WalPageHeader.Read(first);
        if (header.Magic != WalPageHeader.Pg18Magic)
            throw new WalFormatException(WalErrorKind.BadMagic, source.FileName, 0, header.PageAddress,
                $"first page has magic 0x{header.Magic:X4}, expected 0x{WalPageHeader.Pg18Magic:X4} (PostgreSQL 18)");
        if (!header.IsLong)
            throw new WalFormatException(WalErrorKind.BadPageHeader, source.FileName, 0, header.PageAddress,
                "first page of the segment lacks the long header");
        if (!WalPageHeader.IsValidSegmentSize(header.SegmentSize))
            throw new WalFormatException(WalErrorKind.BadPageHeader, source.FileName, 32, header.PageAddress,
                $"segment size {header.SegmentSize} is not a power of two between 1 MiB and 1 GiB");
        if (!WalPageHeader.IsValidPageSize(header.PageSize))
            throw new WalFormatException(WalErrorKind.BadPageHeader, source.FileName, 36, header.PageAddress,
                $"WAL page size {header.PageSize} is not a power of two between 1 and 64 KiB");

        return ((int)header.SegmentSize, header);
    }

    /// <summary>Lets the plain case share the disposal path of the decompressing streams without closing the file twice.</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
