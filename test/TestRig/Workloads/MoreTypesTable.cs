namespace DataSync.TestRig.Workloads;

/// <summary>
/// A table with the types <see cref="EveryTypeTable"/> leaves out because they need more than one DDL step or an
/// extension: composite types (nested, with NULL fields, arrays of them, domains over them, a table's row type,
/// values stored before an attribute was added and after one was dropped) and the extension types citext, hstore,
/// ltree and cube; values TOASTed every way. The decoder's differential test and the daemon's acceptance test share it.
/// </summary>
public static class MoreTypesTable
{
    public const string Name = "more_types";

    /// <summary>The extensions, types and table (no rows). Run on production and, as is, on the local database.</summary>
    public const string Ddl = """
        CREATE EXTENSION IF NOT EXISTS citext;
        CREATE EXTENSION IF NOT EXISTS hstore;
        CREATE EXTENSION IF NOT EXISTS ltree;
        CREATE EXTENSION IF NOT EXISTS cube;
        CREATE TYPE pair AS (a int4, b text);
        CREATE TYPE wide AS (f1 int2, f2 int8, f3 bool, f4 float8, f5 "char", f6 text, f7 timestamptz, f8 uuid, f9 point, f10 jsonb,
                             f11 numeric, f12 varchar(5), f13 bytea);
        CREATE DOMAIN email AS citext CHECK (VALUE LIKE '%@%');
        CREATE DOMAIN positive_pair AS pair CHECK ((VALUE).a > 0);
        CREATE TYPE nest AS (p pair, n numeric, arr int4[], ps pair[], c citext, h hstore, l ltree, r tstzrange, w wide, dp positive_pair);
        CREATE TABLE row_shape (x int4, y text);
        CREATE TABLE more_types (
            id int4 PRIMARY KEY,
            c_pair pair, c_wide wide, c_nest nest, c_domain_pair positive_pair, c_row row_shape,
            a_pair pair[], a_nest nest[], a_domain_pair positive_pair[],
            c_citext citext, a_citext citext[], c_email email,
            c_hstore hstore, a_hstore hstore[],
            c_ltree ltree, a_ltree ltree[],
            c_cube cube, a_cube cube[],
            c_jsonpath jsonpath, a_jsonpath jsonpath[],
            c_lquery lquery, a_lquery lquery[], c_ltxtquery ltxtquery
        );
        """;

    /// <summary>
    /// Rows stored before the types change (ids below 100): 1 all NULL; 2 ordinary values; 3 empties and NULL fields;
    /// 4 limits, escapes and non-ASCII; 5 values TOASTed (external, compressed and not) and compressed inline, and a
    /// composite whose text field is itself compressed inline.
    /// </summary>
    public const string DataBefore = """
        INSERT INTO more_types (id) VALUES (1);
        INSERT INTO more_types VALUES (2,
            ROW(1, 'one'), ROW(-2, 3000000000, true, 2.5, 'x', 'text', '2024-02-29 13:45:56.123456+01', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
                '(1,2)', '{"a": [1, 2]}', 12.345, 'abc', '\x00ff'),
            ROW(ROW(7, 'seven'), 1.5, '{1,2,3}', ARRAY[ROW(1, 'a')::pair, ROW(2, NULL)::pair], 'CamelCase', 'k=>v, n=>NULL', 'Top.Science.Astronomy',
                '[2024-01-01 00:00+00,2024-02-01 00:00+00)', ROW(1, 2, false, 0, 'y', '', NULL, NULL, NULL, 'null', 0, '', ''), ROW(5, 'five')),
            ROW(3, 'three'), ROW(10, 'ten'),
            ARRAY[ROW(1, 'x')::pair, NULL, ROW(NULL, NULL)::pair, ROW(2, 'with "quotes", (parens) and \backslash')::pair],
            ARRAY[ROW(ROW(1, 'in array'), 2, '{}', '{}', 'c', '', '', 'empty', NULL, NULL)::nest],
            ARRAY[ROW(1, 'd')::positive_pair, NULL],
            'Hello World', ARRAY['A'::citext, 'b', NULL, 'ünï'], 'Someone@Example.COM',
            'a=>1, b=>2, "c d"=>"e f", nul=>NULL', ARRAY['x=>y'::hstore, NULL, ''],
            'a.b.c', ARRAY['x'::ltree, 'x.y', ''],
            '(1,2,3),(4,5,6)', ARRAY['(1)'::cube, '(1,2),(3,4)', NULL],
            '$.a[*] ? (@.b > 1 && @.c like_regex "^x" flag "i").double()', ARRAY['$'::jsonpath, NULL, 'strict $.k.**{2 to last}'],
            '*.!foo|bar%@*.baz{2,5}.*{3}', ARRAY['a.b'::lquery, NULL, '*{,2}.x@'], 'Astro* & !pictures@ | (a% & b)');
        INSERT INTO more_types VALUES (3,
            ROW(NULL, NULL), ROW(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
            ROW(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), ROW(1, ''), ROW(NULL, ''),
            '{}', '{}', '{}',
            '', '{}', '@',
            '', '{}',
            '', '{}',
            '(0)', '{}',
            '$', '{}',
            '*', '{}', 'x');
        INSERT INTO more_types VALUES (4,
            ROW(-2147483648, E'tab\there\nnewline ünïcödé ☃'),
            ROW(-32768, -9223372036854775808, true, 'NaN', E'\\377', repeat('w', 40), 'infinity', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
                '(NaN,-0)', '{"k": "v", "n": 1e-20}', 'NaN', 'ü', '\xdeadbeef'),
            ROW(ROW(2147483647, repeat('n', 120)), '-1e-100', '{{1,2},{3,NULL}}', ARRAY[NULL, ROW(0, '')::pair], repeat('Z', 130)::citext,
                '"k\"ey"=>"va\\lue", ""=>""', (repeat('L', 200) || '.Uni_code-x')::ltree, '(-infinity,infinity)',
                ROW(32767, 9223372036854775807, NULL, '-Infinity', 'a', repeat('€', 30), '-infinity', '00000000-0000-0000-0000-000000000000',
                    '(1e300,-1e-300)', '[]', '-999999.999999', 'abcde', '\x'), ROW(2147483647, NULL)),
            ROW(2147483647, repeat('p', 2)), ROW(-1, 'negative'),
            ARRAY[ARRAY[ROW(1, 'a')::pair, ROW(2, 'b')::pair], ARRAY[ROW(3, 'c')::pair, NULL]],
            ARRAY[NULL::nest, ROW(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)::nest],
            '{}',
            repeat('ÄbC', 50), ARRAY[''::citext], 'ÜNÏ@CÖDÉ',
            '"ключ"=>"значение", "emoji 😀"=>"\"quoted\"", "k,=>"=>NULL', ARRAY[''::hstore],
            repeat('a', 1000)::ltree, ARRAY[(repeat('b', 300) || '.c')::ltree],
            '(1e300, -1e300, 0, -0),(1e-300, 5, 6, 7)', ARRAY['(-1,-2,-3)'::cube],
            E'strict $."ünï \\"quoted\\"\\t".datetime("HH24:MI").decimal(4, 2) ? (exists (@[last - 1, 1 to 3]) || !(@ starts with $var))',
            ARRAY['-(1.5e3).type()'::jsonpath],
            (repeat('q', 300) || '%.*{1,}.w{,}.v{0}.u{4,}')::lquery, ARRAY['!a|b|c.*{2,3}'::lquery], '!(a | b) & !c*%@');
        CREATE TABLE more_types_source (t text);
        INSERT INTO more_types_source VALUES (repeat('compressible inline text ', 100));
        INSERT INTO more_types (id, c_pair, c_nest, a_pair, c_citext, c_hstore, c_ltree, c_cube, a_nest, c_jsonpath)
            SELECT 5,
                   ROW(5, (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 3000) g))::pair,
                   ROW(ROW(1, repeat('toasted nest ', 2000)), 1, (SELECT array_agg(g) FROM generate_series(1, 5000) g), NULL,
                       repeat('c', 3000)::citext, (SELECT hstore(array_agg('key' || g), array_agg(repeat('v', g % 40))) FROM generate_series(1, 400) g),
                       NULL, NULL, NULL, NULL)::nest,
                   (SELECT array_agg(ROW(g, md5(g::text))::pair) FROM generate_series(1, 2000) g),
                   (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 1000) g),
                   (SELECT hstore(array_agg(md5(g::text)), array_agg(CASE WHEN g % 5 = 0 THEN NULL ELSE md5((g * 7)::text) END)) FROM generate_series(1, 2000) g),
                   (SELECT string_agg('l' || g, '.')::ltree FROM generate_series(1, 2000) g),
                   (SELECT cube(array_agg(g::float8), array_agg(-g::float8)) FROM generate_series(1, 100) g),
                   (SELECT array_agg(ROW(ROW(g, 'e'), g, NULL, NULL, 'x', NULL, NULL, NULL, NULL, NULL)::nest) FROM generate_series(1, 500) g),
                   ('$' || (SELECT string_agg('.k' || g || '[' || g || ']', '') FROM generate_series(1, 3000) g))::jsonpath;
        INSERT INTO more_types (id, c_pair, c_wide) SELECT 6, ROW(6, t)::pair, ROW(1, 1, true, 1, 'a', t, NULL, NULL, NULL, NULL, NULL, NULL, NULL)::wide FROM more_types_source;
        """;

    /// <summary>The types change (production does this before the decoder reads its catalog): one gains an attribute, one
    /// loses one, the table whose row type is used gains and loses a column; then rows stored after (ids 100 and up).</summary>
    public const string Alter = """
        ALTER TYPE pair ADD ATTRIBUTE c date;
        ALTER TYPE wide DROP ATTRIBUTE f3;
        ALTER TABLE row_shape ADD COLUMN z int8;
        ALTER TABLE row_shape DROP COLUMN x;
        """;

    public const string DataAfter = """
        INSERT INTO more_types (id, c_pair, c_wide, c_nest, c_row, a_pair)
            VALUES (100, ROW(1, 'after', '2024-01-01'), ROW(1, 2, 3, 'c', 'f6', NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                    ROW(ROW(1, 'p', NULL), NULL, NULL, ARRAY[ROW(1, 'q', 'infinity')::pair], NULL, NULL, NULL, NULL, NULL, NULL),
                    ROW('y', 42), ARRAY[ROW(1, 'new', '2000-01-01')::pair, ROW(2, 'old', NULL)::pair]);
        INSERT INTO more_types (id, c_pair, c_row) VALUES (101, ROW(NULL, NULL, NULL), ROW(NULL, NULL));
        """;

    /// <summary>Before and after the change, in order.</summary>
    public const string Data = DataBefore + Alter + DataAfter;
}
