using System.Buffers.Binary;
using DataSync.Wal.Catalog;

namespace DataSync.Wal.Values;

/// <summary>
/// Multirange types (src/include/utils/multirangetypes.h, multirangetypes.c). Stored: the multirange
/// type's OID, the range count n, n−1 32-bit items locating ranges 2…n, n flags bytes (one per range,
/// as a range stores its own), then from the next boundary of the subtype's alignment each range's bound
/// values laid out as inside a range, each range's block padded to that alignment. Sent: the count, then
/// each range as a length-prefixed range send value (flags byte, bounds).
/// </summary>
/// <remarks>
/// An item with its top bit set holds the offset of its range's block from the start of the blocks;
/// otherwise the length of the block before it (PostgreSQL stores an offset every fourth item). Ranges
/// are canonical and never empty in a stored multirange, so they are sent as stored.
/// </remarks>
public static class MultirangeSendConverter
{
    private const int HeaderSize = 4;
    private const uint OffsetBit = 0x8000_0000;

    public static void Write(ValueConverter converter, TypePlan plan, ReadOnlySpan<byte> payload, SendBuffer output)
    {
        var range = plan.Element ?? throw new UnsupportedTypeException($"{plan.Name}: multirange plan without a range type");
        var subtype = range.Element ?? throw new UnsupportedTypeException($"{plan.Name}: range plan without a subtype");
        if (payload.Length < 8) throw RangeSendConverter.Corrupt(plan, $"a value of {payload.Length} bytes is shorter than type OID and count");
        var count = BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        // Every range takes at least its flags byte, so a count beyond the value's size is corrupt.
        if (count > payload.Length) throw RangeSendConverter.Corrupt(plan, $"{count} ranges in {payload.Length} bytes");
        output.WriteInt32((int)count);
        var alignment = TypeAlignment.ToBytes(subtype.Alignment);
        if (count == 0)
        {
            // The header alone, padded to the subtype's alignment.
            if (HeaderSize + payload.Length != TypeAlignment.Align(HeaderSize + 8, alignment))
                throw RangeSendConverter.Corrupt(plan, $"an empty multirange of {payload.Length} bytes");
            return;
        }

        var n = (int)count;
        var itemsAt = 8;
        var flagsAt = itemsAt + 4 * (n - 1);
        if (flagsAt + n > payload.Length) throw RangeSendConverter.Corrupt(plan, $"items and flags of {n} ranges run past the value");
        var blocks = TypeAlignment.Align(HeaderSize + flagsAt + n, alignment);
        var offset = 0L;
        for (var i = 0; i < n; i++)
        {
            if (i > 0)
            {
                var item = BinaryPrimitives.ReadUInt32LittleEndian(payload[(itemsAt + 4 * (i - 1))..]);
                offset = (item & OffsetBit) != 0 ? item & ~OffsetBit : offset + item;
            }

            if (blocks + offset - HeaderSize > payload.Length) throw RangeSendConverter.Corrupt(plan, $"range {i + 1} starts past the end of the value");
            var flags = payload[flagsAt + i];
            var lengthAt = output.BeginField();
            output.WriteByte(flags);
            var position = blocks + (int)offset;
            if (RangeSendConverter.HasLower(flags))
                position = RangeSendConverter.WriteBound(converter, plan, subtype, payload, position, $"range {i + 1}'s lower", output);
            if (RangeSendConverter.HasUpper(flags))
                RangeSendConverter.WriteBound(converter, plan, subtype, payload, position, $"range {i + 1}'s upper", output);
            output.EndField(lengthAt);
        }
    }
}
