using System.Buffers.Binary;
using System.Text;
using DataSync.Wal.Tuples;

namespace DataSync.Core.Bootstrap;

/// <summary>One row version of pg_authid or pg_database as found on disk: its OID, its name, the byte after the name, and whether it looks current.</summary>
/// <param name="FlagAfterName">pg_authid: rolsuper (1 for a superuser); pg_database: its encoding's low byte (unused).</param>
/// <param name="LooksCurrent">No deleting or updating transaction is recorded on the version (or only a row lock): it was not replaced when the file was copied.</param>
public sealed record SharedCatalogRow(uint Oid, string Name, byte FlagAfterName, bool LooksCurrent);

/// <summary>
/// Reads the rows of a shared catalog whose first two columns are <c>oid</c> and a <c>name</c> (pg_authid,
/// pg_database) straight from the heap file of a restored data directory, before any server runs. Used to
/// learn production's superuser and databases, which the temporary restore must connect with and to.
/// </summary>
/// <remarks>
/// The file is a copy taken while production ran, so a page may hold several versions of a row; nothing
/// here decides visibility. Callers treat the names as candidates and let the server, once consistent,
/// confirm the right one. Page layout from src/include/storage/bufpage.h and itemid.h; tuple header from
/// access/htup_details.h; both catalogs start with a 4-byte oid then a 64-byte name (NAMEDATALEN), neither
/// nullable, so their offsets from t_hoff are fixed.
/// </remarks>
public static class SharedCatalogRows
{
    /// <summary>pg_authid's OID (and usual file number).</summary>
    public const uint AuthIdCatalog = 1260;

    /// <summary>pg_database's OID (and usual file number).</summary>
    public const uint DatabaseCatalog = 1262;

    /// <summary>The role initdb creates (BOOTSTRAP_SUPERUSERID): it always exists and is always a superuser.</summary>
    public const uint BootstrapSuperuserOid = 10;

    private const int PageHeaderSize = 24;
    private const int NameLength = 64;
    private const ushort XmaxInvalid = 0x0800;
    private const ushort XmaxLockOnly = 0x0080;

    public static IReadOnlyList<SharedCatalogRow> Read(string dataDirectory, uint catalogOid)
    {
        var global = Path.Combine(dataDirectory, "global");
        var fileNumber = RelationMapFile.FileNumberOf(Path.Combine(global, RelationMapFile.FileName), catalogOid)
            ?? throw new InvalidDataException($"{Path.Combine(global, RelationMapFile.FileName)} has no entry for catalog {catalogOid}");
        var path = Path.Combine(global, fileNumber.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var bytes = File.ReadAllBytes(path);
        var rows = new List<SharedCatalogRow>();
        var pageSize = PageSizeOf(bytes);
        for (var start = 0; start + pageSize <= bytes.Length; start += pageSize)
            ReadPage(bytes.AsSpan(start, pageSize), rows);
        return rows;
    }

    /// <summary>The page size the file was written with (pd_pagesize_version's high byte), 8 kB when its first page is empty.</summary>
    private static int PageSizeOf(ReadOnlySpan<byte> file)
    {
        if (file.Length < PageHeaderSize) return 8192;
        var size = BinaryPrimitives.ReadUInt16LittleEndian(file[18..]) & 0xFF00;
        return size is >= 1024 and <= 32768 ? size : 8192;
    }

    private static void ReadPage(ReadOnlySpan<byte> page, List<SharedCatalogRow> rows)
    {
        var lower = BinaryPrimitives.ReadUInt16LittleEndian(page[12..]);
        if (lower <= PageHeaderSize || lower > page.Length) return; // new or torn page
        for (var at = PageHeaderSize; at + 4 <= lower; at += 4)
        {
            var pointer = BinaryPrimitives.ReadUInt32LittleEndian(page[at..]);
            var offset = (int)(pointer & 0x7FFF);
            var flags = (pointer >> 15) & 3;
            var length = (int)(pointer >> 17);
            if (flags != 1 || length < HeapTupleHeader.PageHeaderSize || offset + length > page.Length) continue; // not LP_NORMAL
            var tuple = page.Slice(offset, length);
            var header = HeapTupleHeader.ReadPage(tuple);
            if (header.Hoff < HeapTupleHeader.PageHeaderSize || header.Hoff + 4 + NameLength + 1 > tuple.Length) continue;
            var data = tuple[header.Hoff..];
            var oid = BinaryPrimitives.ReadUInt32LittleEndian(data);
            var nameBytes = data.Slice(4, NameLength);
            var end = nameBytes.IndexOf((byte)0);
            if (end <= 0) continue;
            var xmax = BinaryPrimitives.ReadUInt32LittleEndian(tuple[4..]);
            var current = xmax == 0 || (header.Infomask & (XmaxInvalid | XmaxLockOnly)) != 0;
            rows.Add(new SharedCatalogRow(oid, Encoding.UTF8.GetString(nameBytes[..end]), data[4 + NameLength], current));
        }
    }
}
