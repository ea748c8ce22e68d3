using System.Buffers.Binary;

namespace DataSync.Wal.Values;

/// <summary>
/// pg_snapshot and txid_snapshot, which share one layout (src/backend/utils/adt/xid8funcs.c): stored as the
/// count of in-progress transaction ids (32 bits), xmin and xmax (64-bit full ids), then the in-progress
/// ids; sent as the same fields big-endian.
/// </summary>
public static class SnapshotSendConverter
{
    public static void Write(string typeName, ReadOnlySpan<byte> payload, SendBuffer output)
    {
        if (payload.Length < 20) throw new DatumFormatException($"{typeName}: a value of {payload.Length} bytes lacks count, xmin and xmax");
        var count = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        if (count > (payload.Length - 20) / 8 || payload.Length != 20 + 8 * (int)count)
            throw new DatumFormatException($"{typeName}: {count} in-progress ids do not fill {payload.Length - 20} bytes");
        output.WriteUInt32(count);
        for (var at = 4; at < payload.Length; at += 8)
            output.WriteInt64(BinaryPrimitives.ReadInt64LittleEndian(payload[at..]));
    }
}
