using System.Buffers.Binary;
using DataSync.Wal.Compression;
using K4os.Compression.LZ4;

namespace DataSync.Wal.Toast;

/// <summary>
/// Restores compressed varlena payloads: pglz (PostgreSQL's own) or lz4 (one raw LZ4 block without
/// a frame, as PostgreSQL writes it with LZ4_compress_default).
/// </summary>
public static class ToastDecompressor
{
    private const int MaxExpansion = 256;

    /// <summary>Decompresses an inline-compressed varlena (4-byte header, va_tcinfo, stream).</summary>
    public static byte[] DecompressInline(ReadOnlySpan<byte> varlena)
    {
        if (Varlena.FormOf(varlena) != VarlenaForm.CompressedInline)
            throw new VarlenaFormatException("value is not an inline-compressed varlena");
        var size = Varlena.TotalSize(varlena);
        if (size < 8) throw new VarlenaFormatException($"compressed varlena of {size} bytes has no room for its size word");
        return DecompressWithInfo(varlena[4..size]);
    }

    /// <summary>Decompresses bytes that start with va_tcinfo (restored size and method) followed by
    /// the compressed stream: the body of an inline-compressed value, or reassembled TOAST chunks
    /// of a compressed external value.</summary>
    public static byte[] DecompressWithInfo(ReadOnlySpan<byte> infoAndStream)
    {
        if (infoAndStream.Length < 4) throw new VarlenaFormatException("compressed value lacks its size word");
        var info = BinaryPrimitives.ReadUInt32LittleEndian(infoAndStream);
        var rawSize = (int)(info & 0x3FFF_FFFF);
        var method = (ToastCompressionMethod)(info >> 30);
        return Decompress(method, infoAndStream[4..], rawSize);
    }

    public static byte[] Decompress(ToastCompressionMethod method, ReadOnlySpan<byte> stream, int rawSize)
    {
        // Neither pglz (at most 273 bytes from a 3-byte reference) nor lz4 (about 255 to 1) can expand
        // further than this; a larger claim is corruption, and must not become a huge allocation.
        if (rawSize < 0 || rawSize > (long)stream.Length * MaxExpansion + 1024)
            throw new VarlenaFormatException($"{method} stream of {stream.Length} bytes cannot restore to the claimed {rawSize} bytes");
        var output = new byte[rawSize];
        int produced;
        switch (method)
        {
            case ToastCompressionMethod.Pglz:
                produced = PglzDecompressor.Decompress(stream, output);
                break;
            case ToastCompressionMethod.Lz4:
                produced = LZ4Codec.Decode(stream, output);
                break;
            default:
                throw new VarlenaFormatException($"unknown TOAST compression method id {(int)method}");
        }

        if (produced != rawSize)
            throw new VarlenaFormatException($"{method} stream of {stream.Length} bytes did not restore to the expected {rawSize} bytes");
        return output;
    }
}
