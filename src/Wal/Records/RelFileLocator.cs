using System.Buffers.Binary;
using System.Globalization;

namespace DataSync.Wal.Records;

/// <summary>
/// Identifies a relation's files on disk (src/include/storage/relfilelocator.h): tablespace OID,
/// database OID (0 for shared catalogs) and the relfilenode number, which is not the pg_class OID.
/// </summary>
public readonly record struct RelFileLocator(uint SpcOid, uint DbOid, uint RelNumber)
{
    public const int Size = 12;

    public static RelFileLocator Read(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(source),
        BinaryPrimitives.ReadUInt32LittleEndian(source[4..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[8..]));

    /// <summary>Printed as pg_walinspect prints it: <c>spc/db/relfilenode</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{SpcOid}/{DbOid}/{RelNumber}");
}
