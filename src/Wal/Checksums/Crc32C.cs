using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace DataSync.Wal.Checksums;

/// <summary>
/// CRC-32C (Castagnoli) as PostgreSQL computes it for WAL records, relmap files and backup
/// manifests: reflected polynomial, initial value all ones, final value inverted.
/// </summary>
/// <remarks>
/// <see cref="BitOperations.Crc32C(uint, ulong)"/> compiles to the SSE4.2 / ARMv8 CRC instruction
/// where there is one, so the loop takes eight bytes per step; the tail goes byte by byte.
/// The running value is kept un-inverted between <see cref="Append"/> calls so that a checksum
/// can be continued over several pieces (a record's payload, then its header).
/// </remarks>
public static class Crc32C
{
    public const uint Initial = 0xFFFFFFFF;

    /// <summary>The finished checksum of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Append(Initial, data));

    /// <summary>Continues a running checksum started with <see cref="Initial"/>.</summary>
    public static uint Append(uint running, ReadOnlySpan<byte> data)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        var crc = running;
        foreach (var word in words)
            crc = BitOperations.Crc32C(crc, BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness(word));
        foreach (var b in data[(words.Length * sizeof(ulong))..])
            crc = BitOperations.Crc32C(crc, b);
        return crc;
    }

    public static uint Finish(uint running) => running ^ 0xFFFFFFFF;
}
