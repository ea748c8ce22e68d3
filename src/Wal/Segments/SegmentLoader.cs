using System.IO.Compression;
using DataSync.Wal.Pages;
using K4os.Compression.LZ4.Streams;

namespace DataSync.Wal.Segments;

/// <summary>
/// Reads one whole segment into a buffer, undoing an archive_command's compression. The size to
/// expect comes from the segment's own long page header, and no more than that is ever read or
/// allocated, whatever the file claims.
/// </summary>
public static class SegmentLoader
{
    /// <summary>
    /// Loads <paramref name="source"/> into <paramref name="buffer"/> (grown when needed) and returns the
    /// segment size. Throws <see cref="WalFormatException"/> for unreadable, corrupt, short or long files.
    /// </summary>
    public static int Load(WalSegmentSource source, ref byte[] buffer)
    {
        try
        {
            using var raw = source.OpenRaw();
            Span<byte> head = stackalloc byte[4];
            var headLength = raw.ReadAtLeast(head, 4, throwOnEndOfStream: false);
            var byMagic = SegmentCompressionDetector.FromMagic(head[..headLength]);
            var bySuffix = SegmentCompressionDetector.FromSuffix(source.Name.CompressionSuffix);
            if (bySuffix != SegmentCompression.None && byMagic != bySuffix)
                throw new WalFormatException(WalErrorKind.BadCompression, source.FileName, 0, Lsn.Invalid,
                    $"the name says {bySuffix} but the file does not start with its magic bytes");
            raw.Position = 0;
            using var stream = Decompress(raw, byMagic);
            return ReadSegment(source, stream, ref buffer);
        }
        catch (WalFormatException)
        {
            throw;
        }
        catch (Exception e) when (e is InvalidDataException or ZstdSharp.ZstdException or InvalidOperationException or ArgumentException or NotSupportedException)
        {
            throw new WalFormatException(WalErrorKind.BadCompression, source.FileName, -1, Lsn.Invalid, $"cannot decompress: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WalFormatException(WalErrorKind.Unreadable, source.FileName, -1, Lsn.Invalid, e.Message, e);
        }
    }

    private static Stream Decompress(Stream raw, SegmentCompression compression) => compression switch
    {
        SegmentCompression.Gzip => new GZipStream(raw, CompressionMode.Decompress, leaveOpen: true),
        SegmentCompression.Zstd => new ZstdSharp.DecompressionStream(raw, leaveOpen: true),
        SegmentCompression.Lz4Frame => LZ4Stream.Decode(raw, leaveOpen: true),
        _ => new NonClosingStream(raw),
    };

    private static int ReadSegment(WalSegmentSource source, Stream stream, ref byte[] buffer)
    {
        if (buffer.Length < WalPageHeader.LongSize) buffer = new byte[1 << 20];
        var got = stream.ReadAtLeast(buffer.AsSpan(0, WalPageHeader.LongSize), WalPageHeader.LongSize, throwOnEndOfStream: false);
        if (got < WalPageHeader.LongSize)
            throw new WalFormatException(WalErrorKind.Truncated, source.FileName, got, Lsn.Invalid,
                $"file holds {got} bytes, less than a segment's first page header");
        var header = WalPageHeader.Read(buffer);
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

        var size = (int)header.SegmentSize;
        if (buffer.Length < size)
        {
            var grown = new byte[size];
            buffer.AsSpan(0, WalPageHeader.LongSize).CopyTo(grown);
            buffer = grown;
        }

        var total = WalPageHeader.LongSize;
        while (total < size)
        {
            var n = stream.Read(buffer, total, size - total);
            if (n == 0)
                throw new WalFormatException(WalErrorKind.Truncated, source.FileName, total, header.PageAddress + (ulong)total,
                    $"file ends after {total} bytes; its header says segments are {size} bytes");
            total += n;
        }

        Span<byte> extra = stackalloc byte[1];
        if (stream.Read(extra) != 0)
            throw new WalFormatException(WalErrorKind.BadLength, source.FileName, size, header.PageAddress + (ulong)size,
                $"file is longer than the {size}-byte segment size its header gives");
        return size;
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
