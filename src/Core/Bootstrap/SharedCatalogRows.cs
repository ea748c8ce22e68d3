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
/// confirm the right one. Pages are walked by <see cref="HeapPage"/>; both catalogs start with a 4-byte oid
/// then a 64-byte name (NAMEDATALEN), neither nullable, so their offsets from t_hoff are fixed.
/// </remarks>
public static class SharedCatalogRows
{
    /// <summary>pg_authid's OID (and usual file number).</summary>
    public const uint AuthIdCatalog = 1260;

    /// <summary>pg_database's OID (and usual file number).</summary>
    public const uint DatabaseCatalog = 1262;

    /// <summary>The role initdb creates (BOOTSTRAP_SUPERUSERID): it always exists and is always a superuser.</summary>
    public const uint BootstrapSuperuserOid = 10;

    private const int NameLength = 64;

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
        if (file.Length < HeapPage.HeaderSize) return 8192;
        var size = BinaryPrimitives.ReadUInt16LittleEndian(file[18..]) & 0xFF00;
        return size is >= 1024 and <= 32768 ? size : 8192;
    }

    private static void ReadPage(ReadOnlySpan<byte> bytes, List<SharedCatalogRow> rows)
    {
        // A new or torn page has no line pointers; a pointer that is not LP_NORMAL or leaves the page gives no tuple.
        var page = new HeapPage(bytes);
        for (var offnum = 1; offnum <= page.ItemCount; offnum++)
        {
            var tuple = page.Tuple(offnum);
            var data = HeapPage.Data(tuple);
            if (data.Length < 4 + NameLength + 1) continue;
            var oid = BinaryPrimitives.ReadUInt32LittleEndian(data);
            var nameBytes = data.Slice(4, NameLength);
            var end = nameBytes.IndexOf((byte)0);
            if (end <= 0) continue;
            rows.Add(new SharedCatalogRow(oid, Encoding.UTF8.GetString(nameBytes[..end]), data[4 + NameLength], HeapPage.LooksCurrent(tuple)));
        }
    }
}
