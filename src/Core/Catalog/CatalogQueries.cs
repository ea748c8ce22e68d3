using DataSync.Wal.Catalog;

namespace DataSync.Core.Catalog;

/// <summary>
/// The SQL that reads a <see cref="CatalogSnapshot"/> from a running 18.1 server (in practice the
/// temporary restore, paused at a known LSN). The SQL lives here, beside the database client, so the
/// WAL library stays free of both; whoever runs the queries maps each result row, column by column in the order selected, onto
/// <see cref="TableRow"/>, <see cref="ColumnRow"/>, <see cref="TypeDescriptor"/> and
/// <see cref="EnumLabel"/> and hands them to <see cref="CatalogBuilder"/>.
/// </summary>
/// <remarks>
/// Single-character catalog columns ("char") are selected as text, so an unset attgenerated comes
/// back as the empty string; map that to '\0'.
/// </remarks>
public static class CatalogQueries
{
    /// <summary>$1 text[]: table names as SQL would resolve them ('public.orders', '"Odd Name"').
    /// Names that do not resolve, or are not ordinary or partitioned tables, yield no row. A partitioned
    /// table yields a row for itself and one for each table of its partition tree (partitions hold
    /// the rows; partitioned ones have no file, filenode 0), each naming the root it was asked as.
    /// Columns after the key: the root's schema and name (null on the root's own row), the root's OID.</summary>
    public const string Tables = """
        SELECT c.oid,
               n.nspname::text,
               c.relname::text,
               COALESCE(pg_relation_filenode(c.oid), 0::oid),
               CASE WHEN c.reltablespace <> 0 THEN c.reltablespace ELSE d.dattablespace END,
               d.oid,
               c.reltoastrelid,
               COALESCE(pg_relation_filenode(NULLIF(c.reltoastrelid, 0)), 0::oid),
               c.relreplident::text,
               CASE c.relreplident
                   WHEN 'f' THEN COALESCE((SELECT i.indkey::int2[] FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary),
                                          ARRAY(SELECT a.attnum FROM pg_attribute a
                                                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                                                ORDER BY a.attnum))
                   WHEN 'n' THEN '{}'::int2[]
                   ELSE COALESCE((SELECT i.indkey::int2[] FROM pg_index i
                                  WHERE i.indrelid = c.oid
                                    AND ((c.relreplident = 'd' AND i.indisprimary)
                                      OR (c.relreplident = 'i' AND i.indisreplident))), '{}'::int2[])
               END,
               CASE WHEN c.oid <> w.oid THEN wn.nspname::text END,
               CASE WHEN c.oid <> w.oid THEN w.relname::text END,
               w.oid
        FROM unnest($1::text[]) AS wanted(name)
        JOIN pg_class w ON w.oid = to_regclass(wanted.name)
        JOIN pg_namespace wn ON wn.oid = w.relnamespace
        CROSS JOIN LATERAL (SELECT w.oid WHERE w.relkind = 'r'
                            UNION ALL
                            SELECT tree.relid FROM pg_partition_tree(w.oid) tree WHERE w.relkind = 'p') AS member(oid)
        JOIN pg_class c ON c.oid = member.oid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_database d ON d.datname = current_database()
        WHERE w.relkind IN ('r', 'p') AND c.relkind IN ('r', 'p')
        ORDER BY w.oid, c.oid <> w.oid, c.oid
        """;

    /// <summary>$1 oid[]: relation OIDs. Every attribute with attnum ≥ 1, dropped ones included. The added-later default
    /// (attmissingval) comes in send form, or, for a type binary COPY cannot carry (no binary send or receive function at its
    /// core, past domains and arrays; array_send would fail on it), as the text the server prints for it, in the last column.</summary>
    public const string Columns = """
        SELECT a.attrelid,
               a.attnum,
               a.attname::text,
               a.atttypid,
               a.atttypmod,
               a.attlen,
               a.attalign::text,
               a.attbyval,
               a.attstorage::text,
               a.attisdropped,
               a.attnotnull,
               a.atthasmissing,
               CASE WHEN a.atthasmissing AND NOT textual.carried THEN array_send(a.attmissingval) END,
               a.attgenerated::text,
               CASE WHEN a.atthasmissing AND textual.carried THEN (a.attmissingval::text::text[])[1] END
        FROM pg_attribute a
        CROSS JOIN LATERAL (
            WITH RECURSIVE reach(type, depth) AS (
                SELECT a.atttypid, 0
              UNION ALL
                SELECT CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.typelem END, r.depth + 1
                FROM reach r
                JOIN pg_type t ON t.oid = r.type
                WHERE r.depth < 16 AND (t.typtype = 'd' OR t.typsubscript = 'array_subscript_handler'::regproc)
            )
            SELECT EXISTS (SELECT 1 FROM reach r JOIN pg_type t ON t.oid = r.type WHERE t.typsend::oid = 0 OR t.typreceive::oid = 0) AS carried
        ) AS textual
        WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0
        ORDER BY a.attrelid, a.attnum
        """;

    /// <summary>$1 oid[]: relation OIDs. Every type their live columns use, and, transitively,
    /// the element types of arrays, the base types of domains, the subtypes of ranges, the range
    /// types of multiranges (the second last column) and the types of composites' live attributes.
    /// The last column names the extension that owns the type, if one does.</summary>
    public const string Types = """
        WITH RECURSIVE used(oid) AS (
            SELECT a.atttypid FROM pg_attribute a
            WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
          UNION
            SELECT next.oid
            FROM used u
            JOIN pg_type t ON t.oid = u.oid
            CROSS JOIN LATERAL (VALUES (t.typelem), (t.typbasetype),
                                       ((SELECT r.rngsubtype FROM pg_range r WHERE r.rngtypid = t.oid)),
                                       ((SELECT r.rngtypid FROM pg_range r WHERE r.rngmultitypid = t.oid))
                                UNION ALL
                                SELECT ca.atttypid FROM pg_attribute ca
                                WHERE t.typtype = 'c' AND ca.attrelid = t.typrelid AND ca.attnum > 0 AND NOT ca.attisdropped) AS next(oid)
            WHERE next.oid <> 0
        )
        SELECT t.oid,
               n.nspname::text,
               t.typname::text,
               t.typtype::text,
               t.typlen,
               t.typbyval,
               t.typalign::text,
               t.typstorage::text,
               t.typelem,
               t.typbasetype,
               t.typrelid,
               t.typsubscript = 'array_subscript_handler'::regproc,
               COALESCE((SELECT r.rngsubtype FROM pg_range r WHERE r.rngtypid = t.oid),
                        (SELECT r.rngtypid FROM pg_range r WHERE r.rngmultitypid = t.oid), 0::oid),
               (SELECT e.extname::text FROM pg_depend dep JOIN pg_extension e ON e.oid = dep.refobjid
                WHERE dep.classid = 'pg_catalog.pg_type'::regclass AND dep.objid = t.oid
                  AND dep.refclassid = 'pg_catalog.pg_extension'::regclass AND dep.deptype = 'e')
        FROM pg_type t
        JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.oid IN (SELECT oid FROM used)
        ORDER BY t.oid
        """;

    /// <summary>$1 oid[]: enum type OIDs.</summary>
    public const string EnumLabels = """
        SELECT e.oid, e.enumtypid, e.enumsortorder, e.enumlabel::text
        FROM pg_enum e
        WHERE e.enumtypid = ANY($1::oid[])
        ORDER BY e.enumtypid, e.enumsortorder
        """;
}
