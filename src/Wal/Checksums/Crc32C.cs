using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace DataSync.Wal.Checksums;

/// <summary>
/// CRC-32C (Castagnoli) as PostgreSQL computes it for WAL records, relmap files and backup
/// manifests: reflected polynomial, initial value all ones, final value inverted.
/// </summary>
/// <remarks>
/// <para><see cref="BitOperations.Crc32C(uint, ulong)"/> compiles to the SSE4.2 / ARMv8 CRC
/// instruction, eight bytes per step. One chain of steps is bound by the instruction's latency
/// (about three cycles) rather than its throughput (one per cycle), so long inputs are cut into
/// rounds of three equal lanes checksummed side by side, and the lanes are joined afterwards.</para>
/// <para>Joining works because the CRC register update is linear: the register after lane A then
/// lane B equals "register after A, advanced over |B| zero bytes" xor "register of B started from 0".
/// Advancing over a fixed lane length is a fixed linear map on 32 bits, applied here with four
/// 256-entry tables built once at start-up.</para>
/// <para>The running value is kept un-inverted between <see cref="Append"/> calls so that a
/// checksum can be continued over several pieces (a record's payload, then its header).</para>
/// </remarks>
public static class Crc32C
{
    public const uint Initial = 0xFFFFFFFF;

    private const int Lane = 512;
    private static readonly uint[] AdvanceOverLane = BuildAdvanceTable();

    /// <summary>The finished checksum of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Append(Initial, data));

    /// <summary>Continues a running checksum started with <see cref="Initial"/>.</summary>
    public static uint Append(uint running, ReadOnlySpan<byte> data)
    {
        var crc = running;
        while (data.Length >= 3 * Lane)
        {
            var a = MemoryMarshal.Cast<byte, ulong>(data[..Lane]);
            var b = MemoryMarshal.Cast<byte, ulong>(data.Slice(Lane, Lane));
            var c = MemoryMarshal.Cast<byte, ulong>(data.Slice(2 * Lane, Lane));
            uint crcA = crc, crcB = 0, crcC = 0;
            for (var i = 0; i < a.Length; i++)
            {
                crcA = BitOperations.Crc32C(crcA, LittleEndian(a[i]));
                crcB = BitOperations.Crc32C(crcB, LittleEndian(b[i]));
                crcC = BitOperations.Crc32C(crcC, LittleEndian(c[i]));
            }

            crc = Advance(Advance(crcA) ^ crcB) ^ crcC;
            data = data[(3 * Lane)..];
        }

        var words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (var word in words)
            crc = BitOperations.Crc32C(crc, LittleEndian(word));
        foreach (var b in data[(words.Length * sizeof(ulong))..])
            crc = BitOperations.Crc32C(crc, b);
        return crc;
    }

    public static uint Finish(uint running) => running ^ 0xFFFFFFFF;

    /// <summary>
    /// Continues a running checksum over exactly 20 bytes, the part of a WAL record header before
    /// its CRC field; three instructions instead of the general loop, as it runs once per record.
    /// </summary>
    public static uint AppendRecordHeader(uint running, ReadOnlySpan<byte> first20)
    {
        var crc = BitOperations.Crc32C(running, BinaryPrimitives.ReadUInt64LittleEndian(first20));
        crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(first20[8..]));
        return BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt32LittleEndian(first20[16..20]));
    }

    private static ulong LittleEndian(ulong word) => BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness(word);

    /// <summary>The register after <see cref="Lane"/> zero bytes, starting from <paramref name="crc"/>.</summary>
    private static uint Advance(uint crc) =>
        AdvanceOverLane[crc & 0xFF] ^ AdvanceOverLane[256 + ((crc >> 8) & 0xFF)] ^
        AdvanceOverLane[512 + ((crc >> 16) & 0xFF)] ^ AdvanceOverLane[768 + (crc >> 24)];

    private static uint[] BuildAdvanceTable()
    {
        var table = new uint[4 * 256];
        for (var part = 0; part < 4; part++)
        {
            for (var value = 0; value < 256; value++)
            {
                var crc = (uint)value << (8 * part);
                for (var step = 0; step < Lane / sizeof(ulong); step++) crc = BitOperations.Crc32C(crc, 0UL);
                table[part * 256 + value] = crc;
            }
        }

        return table;
    }
}
