using DataSync.Wal.Changes;

namespace DataSync.Core.Catalog;

/// <summary>
/// The SQL that reads <see cref="CatalogLocations"/> from the server the catalog snapshot comes from
/// (the temporary restore paused at the start LSN). Like <see cref="CatalogQueries"/>, the
/// caller runs it and maps the columns in order.
/// </summary>
public static class CatalogLocationQueries
{
    /// <summary>One row: database OID, pg_class's, pg_attribute's, pg_inherits' and pg_index's file numbers.</summary>
    public const string Files = """
        SELECT d.oid, pg_relation_filenode('pg_catalog.pg_class'), pg_relation_filenode('pg_catalog.pg_attribute'),
               pg_relation_filenode('pg_catalog.pg_inherits'), pg_relation_filenode('pg_catalog.pg_index')
        FROM pg_database d
        WHERE d.datname = current_database()
        """;

    /// <summary>
    /// $1 oid[]: the synced tables. Rows: relation OID, attnum (0 for the pg_class row), block, offnum, then the
    /// values <see cref="CatalogRowDefinition"/> keeps: the name's bytes in the database encoding; for a pg_class row
    /// relnamespace, relam, reltoastrelid, relnatts, 0, and the codes of relpersistence, relkind, relreplident and
    /// relispartition; for a pg_attribute row atttypid, 0, 0, atttypmod, attlen, and the codes of attbyval, attalign,
    /// attgenerated and attisdropped.
    /// </summary>
    public const string Rows = """
        SELECT c.oid, 0::int2, (c.ctid::text::point)[0]::bigint, (c.ctid::text::point)[1]::int,
               convert_to(c.relname::text, getdatabaseencoding()), c.relnamespace, c.relam, c.reltoastrelid,
               c.relnatts::int4, 0::int2,
               ARRAY[ascii(c.relpersistence::text), ascii(c.relkind::text), ascii(c.relreplident::text), c.relispartition::int]::int2[]
        FROM pg_class c
        WHERE c.oid = ANY($1::oid[])
           OR c.oid IN (SELECT t.reltoastrelid FROM pg_class t WHERE t.oid = ANY($1::oid[]))
        UNION ALL
        SELECT a.attrelid, a.attnum, (a.ctid::text::point)[0]::bigint, (a.ctid::text::point)[1]::int,
               convert_to(a.attname::text, getdatabaseencoding()), a.atttypid, 0::oid, 0::oid,
               a.atttypmod, a.attlen,
               ARRAY[a.attbyval::int, ascii(a.attalign::text), ascii(a.attgenerated::text), a.attisdropped::int]::int2[]
        FROM pg_attribute a
        WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0
        """;

    /// <summary>A row of <see cref="Rows"/> from its columns 4 and on: the row's <see cref="CatalogRowDefinition"/>.</summary>
    public static byte[] Definition(uint relationOid, short attNum, byte[] name, uint oid1, uint oid2, uint oid3, int number, short length, short[] codes) =>
        attNum == 0
            ? CatalogRowDefinition.ForClass(name, relationOid, oid1, oid2, oid3, (byte)codes[0], (byte)codes[1], (short)number, (byte)codes[2], codes[3] != 0)
            : CatalogRowDefinition.ForAttribute(name, relationOid, oid1, length, attNum, number, codes[0] != 0, (byte)codes[1], (byte)codes[2], codes[3] != 0);
}
