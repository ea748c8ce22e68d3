namespace DataSync.Wal.Changes;

/// <summary>
/// The SQL that reads <see cref="CatalogLocations"/> from the server the catalog snapshot comes from
/// (the temporary restore paused at the start LSN). Like <see cref="Catalog.CatalogQueries"/>, the
/// caller runs it and maps the columns in order.
/// </summary>
public static class CatalogLocationQueries
{
    /// <summary>One row: database OID, pg_class's, pg_attribute's and pg_inherits' file numbers.</summary>
    public const string Files = """
        SELECT d.oid, pg_relation_filenode('pg_catalog.pg_class'), pg_relation_filenode('pg_catalog.pg_attribute'),
               pg_relation_filenode('pg_catalog.pg_inherits')
        FROM pg_database d
        WHERE d.datname = current_database()
        """;

    /// <summary>$1 oid[]: the synced tables. Rows: relation OID, attnum (0 for the pg_class row), block, offnum.</summary>
    public const string Rows = """
        SELECT c.oid, 0::int2, (c.ctid::text::point)[0]::bigint, (c.ctid::text::point)[1]::int
        FROM pg_class c
        WHERE c.oid = ANY($1::oid[])
           OR c.oid IN (SELECT t.reltoastrelid FROM pg_class t WHERE t.oid = ANY($1::oid[]))
        UNION ALL
        SELECT a.attrelid, a.attnum, (a.ctid::text::point)[0]::bigint, (a.ctid::text::point)[1]::int
        FROM pg_attribute a
        WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0
        """;
}
