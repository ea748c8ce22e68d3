namespace DataSync.TestRig.Workloads;

/// <summary>
/// A table with a column of every type the decoder supports (plus arrays, enums and domains), and rows
/// of NULLs, limits, special values and values large enough to be compressed inline or moved to TOAST
/// (compressed or not). The decoder's value tests and the daemon's acceptance tests share it.
/// </summary>
public static class EveryTypeTable
{
    public const string Name = "all_types";

    public const string Ddl = """
        CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'ünïcödé label');
        CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);
        CREATE DOMAIN short_text AS varchar(20);
        CREATE DOMAIN int_list AS int4[];
        CREATE DOMAIN valid_period AS tstzrange CHECK (NOT isempty(VALUE));
        CREATE DOMAIN date_spans AS datemultirange;
        CREATE TYPE float8range AS RANGE (subtype = float8, subtype_diff = float8mi);
        CREATE TYPE textrange AS RANGE (subtype = text, collation = "C");
        CREATE TYPE moodrange AS RANGE (subtype = mood);
        CREATE DOMAIN search_doc AS tsvector;
        CREATE DOMAIN location AS point;
        CREATE DOMAIN xml_doc AS xml;
        CREATE TABLE all_types (
            id int4 PRIMARY KEY,
            c_bool bool, c_int2 int2, c_int4 int4, c_int8 int8, c_oid oid, c_float4 float4, c_float8 float8,
            c_numeric numeric, c_numeric_scaled numeric(30,6), c_text text, c_varchar varchar(10), c_bpchar char(5),
            c_name name, c_bytea bytea, c_uuid uuid, c_date date, c_time time, c_timetz timetz, c_timestamp timestamp,
            c_timestamptz timestamptz, c_interval interval, c_json json, c_jsonb jsonb, c_inet inet, c_cidr cidr,
            c_macaddr macaddr, c_macaddr8 macaddr8, c_money money, c_bit bit(10), c_varbit varbit,
            c_enum mood, c_domain posint, c_domain_text short_text,
            a_bool bool[], a_int2 int2[], a_int4 int4[], a_int8 int8[], a_oid oid[], a_float4 float4[], a_float8 float8[],
            a_numeric numeric[], a_text text[], a_varchar varchar(5)[], a_bpchar char(3)[], a_name name[], a_bytea bytea[],
            a_uuid uuid[], a_date date[], a_time time[], a_timetz timetz[], a_timestamp timestamp[], a_timestamptz timestamptz[],
            a_interval interval[], a_json json[], a_jsonb jsonb[], a_inet inet[], a_cidr cidr[], a_macaddr macaddr[],
            a_macaddr8 macaddr8[], a_money money[], a_bit bit(3)[], a_varbit varbit[], a_enum mood[], a_domain posint[],
            a_domain_text short_text[], c_domain_array int_list,
            c_char "char", c_pg_lsn pg_lsn, a_char "char"[], a_pg_lsn pg_lsn[],
            c_int4range int4range, c_int8range int8range, c_numrange numrange, c_tsrange tsrange, c_tstzrange tstzrange,
            c_daterange daterange, c_int4multirange int4multirange, c_int8multirange int8multirange,
            c_nummultirange nummultirange, c_tsmultirange tsmultirange, c_tstzmultirange tstzmultirange,
            c_datemultirange datemultirange, a_int4range int4range[], a_numrange numrange[], a_tstzrange tstzrange[],
            a_int8multirange int8multirange[], a_nummultirange nummultirange[], c_domain_range valid_period, c_domain_multirange date_spans,
            c_float8range float8range, c_textrange textrange, c_textmultirange textmultirange, c_moodrange moodrange, a_textrange textrange[],
            c_tsvector tsvector, c_tsquery tsquery, a_tsvector tsvector[], a_tsquery tsquery[], c_domain_tsvector search_doc,
            c_point point, c_lseg lseg, c_path path, c_box box, c_polygon polygon, c_line line, c_circle circle,
            a_point point[], a_box box[], a_polygon polygon[], a_circle circle[], a_path path[], c_domain_point location,
            c_xml xml, a_xml xml[], c_regclass regclass, c_regtype regtype, c_regproc regproc, c_regprocedure regprocedure,
            c_regoper regoper, c_regoperator regoperator, c_regconfig regconfig, c_regdictionary regdictionary,
            c_regnamespace regnamespace, c_regrole regrole, c_regcollation regcollation, a_regtype regtype[],
            c_pg_snapshot pg_snapshot, c_txid_snapshot txid_snapshot, a_pg_snapshot pg_snapshot[], c_domain_xml xml_doc,
            c_xid xid, c_xid8 xid8, c_cid cid, c_tid tid, a_xid8 xid8[], a_tid tid[]
        );
        """;

    /// <summary>Rows: 1 all NULL; 2 ordinary values; 3 minimums and negative specials; 4 maximums and positive
    /// specials; 5 empties; 6 long values (inline-compressed and TOASTed, compressed or not).</summary>
    public const string Data = """
        INSERT INTO all_types (id) VALUES (1);
        INSERT INTO all_types VALUES (2,
            true, 12, 123456, 1234567890123, 4000000000, 3.14159, 2.718281828459045,
            12345.678, 98765.4321, 'héllo wörld ☃', 'varchar', 'ab', 'a name', '\x00ff10', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
            '2024-02-29', '13:45:56.123456', '12:34:56.789+05:30', '2024-02-29 13:45:56.123456', '2024-02-29 13:45:56.123456+01',
            '1 year 2 months 3 days 04:05:06.789', '{"b": 1,   "a": [1, 2.50, "x"]}',
            '{"a": 1, "bb": [true, "x"], "c": {"nested": null, "e": false}, "num": 1e100, "neg": -0.0, "dec": 123.4500, "small": 0.000001, "tiny": 1e-20, "big": 123456789012345678901234567890.123456789, "uni": "héllo ☃ \n\t\"quote\\ \u0001\u001f/", "": ""}',
            '192.168.1.10/24', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05', 1234.56, B'1010101010', B'110',
            'happy', 42, 'short',
            '{true,false,NULL}', '{1,-2,NULL,32767}', '{{1,2,3},{4,NULL,6}}', '{9223372036854775807,-9223372036854775808}', '{0,4294967295}',
            '{1.5,NaN,-Infinity,Infinity}', '{1e300,-0.0,NULL}', '{1.5,NaN,Infinity,-Infinity,0,-1e-30,NULL}',
            '{"a","",NULL,"with \"quote\" and \\backslash","ünï"}', '{"abc","de"}', '{"a","bc",NULL}', '{"n1","n2"}',
            '{"\\x","\\x0102",NULL}', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}', '{2024-01-01,infinity,-infinity}',
            '{00:00:00,24:00:00}', '{00:00:00+1559,24:00:00-1559}', '{infinity,2000-01-01 00:00:00}', '{-infinity,2000-01-01 00:00:00+00}',
            '{"1 day","-1 month",infinity}', ARRAY['{"a":1}'::json, '[1, 2]'::json], ARRAY['{"a":1}'::jsonb, '"s"'::jsonb, 'null'::jsonb, '[]'::jsonb],
            '{192.168.0.1,::1,fe80::1/64}', '{10.0.0.0/8,2001:db8::/32}', '{08:00:2b:01:02:03}', '{08:00:2b:01:02:03:04:05}',
            '{1.00,-2.50}', '{101,010}', '{1,10101,""}', '{sad,ok,NULL}', '{1,2,NULL}', '{"x","y"}',
            NULL, 'a', '16/B374D848', '{x,NULL,y}', '{0/0,FFFFFFFF/FFFFFFFF}',
            '[1,10)', '[-5,5]', '[1.1,2.2)', '[2024-02-29 13:45:56.123456,2024-03-01)', '(2024-02-29 13:45:56+01,2024-03-01 00:00:00+00]',
            '[2024-01-01,2024-12-31]', '{[1,3),[5,8),[10,11]}', '{[1,2],[4,5)}', '{[1.5,2.5),(3,4]}',
            '{[2000-01-01,2000-01-02),[2001-01-01,)}', '{[2000-01-01 00:00+00,2000-01-02 00:00+00)}', '{[2000-01-10,2000-01-20],[2000-02-01,2000-02-05)}',
            '{"[1,2)","[3,4)",NULL,empty}', '{"[1.5,2.5)",NULL,"(,0.001]"}', '{"[2000-01-01 00:00+00,infinity)"}', '{"{[1,2)}","{}",NULL}',
            '{"{[1.1,2.2)}"}', '[2024-01-01 00:00+00,2024-02-01 00:00+00)', '{[2024-01-01,2024-02-01)}',
            '[1.5,2.5)', '[a,z)', '{[a,b),[c,"d e"]}', '[sad,happy]', '{"[a,b)",NULL}',
            to_tsvector('english', 'The quick brown fox jumps over the lazy dog, and the dog sleeps'),
            to_tsquery('english', 'quick & (fox | dog) & !cat'),
            ARRAY['a:1 b:2 c:3'::tsvector, NULL, 'abc def'::tsvector], ARRAY['a <-> b'::tsquery, 'x:*'::tsquery],
            'a:1,2,3 b:4A,5B,6C,7D',
            '(5.1, 34.5)', '[(1,2),(3,4)]', '[(0,0),(3,0),(4,5),(1,6)]', '(2.0,2.0,0.0,0.0)', '(2.0,0.0),(2.0,4.0),(0.0,0.0)',
            '{1,-1,0}', '<(5,1),3>', ARRAY['(0,0)'::point, NULL, '(-3,4)'], ARRAY['(1,2,3,4)'::box, '(0,0,0,0)'],
            ARRAY['((0,0),(1,1),(1,0))'::polygon], ARRAY['<(1,2),100>'::circle], ARRAY['[(1,2),(3,4)]'::path, '((1,2),(3,4))'], '(1,1)',
            '<a b="1">text &amp; ünï</a>', ARRAY['<x/>'::xml, NULL, 'just text'], 'pg_class', 'int4', 'now', 'sum(int4)', '||/',
            '+(int4,int4)', 'english', 'simple', 'pg_catalog', 'pg_monitor', '"C"', ARRAY['int4'::regtype, 'text', 'pg_class'],
            '10:20:10,14,15', '10:20:10,14,15', ARRAY['1:1:'::pg_snapshot, NULL], '<doc/>',
            '42', '1234567890123', '7', '(1,2)', '{1,NULL,2}', '{"(0,1)","(3,4)"}');
        INSERT INTO all_types VALUES (3,
            false, -32768, -2147483648, -9223372036854775808, 0, '-Infinity', '-Infinity',
            '-Infinity', -999999999999999999999999.999999, '', '', '', '', '\x', '00000000-0000-0000-0000-000000000000',
            '-infinity', '00:00:00', '00:00:00+1559', '-infinity', '-infinity',
            '-infinity', '""', '"str"', '0.0.0.0/0', '0.0.0.0/0', '00:00:00:00:00:00', '00:00:00:00:00:00:00:00',
            '-92233720368547758.08', B'0000000000', B'', 'sad', 1, '',
            '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}',
            '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}',
            NULL, '', '0/0', '{}', '{}',
            'empty', 'empty', 'empty', 'empty', 'empty', 'empty', '{}', '{}', '{}', '{}', '{}', '{}',
            '{}', '{}', '{}', '{}', '{}', '(,)', '{}',
            'empty', 'empty', '{}', 'empty', '{}',
            '', 'a', '{}', '{}', '',
            '(0,0)', '[(0,0),(0,0)]', '((10,20))', '(0,0,0,0)', '(0,0)', '{0,-1,5}', '<(3,5),0>', '{}', '{}', '{}', '{}', '{}', '(-0,-0)',
            '', '{}', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '{}', '1:1:', '1:1:', '{}', '',
            '0', '0', '0', '(0,0)', '{}', '{}');
        INSERT INTO all_types VALUES (4,
            true, 32767, 2147483647, 9223372036854775807, 4294967295, 'Infinity', 'Infinity',
            'Infinity', 999999999999999999999999.999999, E'tab\there\nnewline \\ backslash', 'ünïcödé', 'ü', repeat('n', 63),
            '\xdeadbeef', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'infinity', '24:00:00', '24:00:00-1559', 'infinity', 'infinity',
            'infinity', '[1, {"k": "v"}]', '[1, [2, [3, []]], {}]', '::1', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', 'ff:ff:ff:ff:ff:ff:ff:ff',
            '92233720368547758.07', B'1111111111', B'1', 'ünïcödé label', 2147483647, repeat('z', 20),
            '{{{t}}}', '[0:2]={1,2,3}', '[-5:-4][2:3]={{1,2},{3,4}}', '{NULL}', '{NULL,NULL}', '{-0,1.17549435e-38}', '{4.9e-324,1.7976931348623157e308}',
            '{NaN}', '{{"a",NULL},{NULL,"d"}}', '{""}', '{"   "}', '{""}', '{"\\xff"}', '{ffffffff-ffff-ffff-ffff-ffffffffffff}',
            '{4713-01-01 BC,5874897-12-31}', '{23:59:59.999999}', '{12:00:00+05:30}', '{4713-01-01 00:00:00 BC,294276-12-31 23:59:59.999999}',
            '{4713-01-01 00:00:00+00 BC,294276-12-31 23:59:59.999999+00}', '{-infinity,"-178000000 years","178000000 years"}',
            ARRAY['"s"'::json], ARRAY['{"z": {"y": {"x": [1, 2, {"w": null}]}}}'::jsonb], '{0.0.0.0/0}', '{::/0}', '{ff:ff:ff:ff:ff:ff}',
            '{ff:ff:ff:ff:ff:ff:ff:ff}', '{92233720368547758.07,-92233720368547758.08}', '{111}', '{""}', '{happy}', '{2147483647}', '{""}',
            NULL, '\377', 'FFFFFFFF/FFFFFFFF', '{"\\377"}', '{NULL}',
            '(,2147483646]', '[-9223372036854775808,9223372036854775806]', ('[1.5,1' || repeat('7', 300) || ')')::numrange,
            '[-infinity,infinity]', '(-infinity,infinity)', '[-infinity,infinity]',
            '{(,)}', '{(,-5),[0,1),(7,)}', ('{[-1' || repeat('9', 290) || ',-0.5],[1.25,3),[' || repeat('7', 200) || '.5,)}')::nummultirange,
            '{[-infinity,2000-01-01),[2001-01-01,infinity]}', '{(,)}', '{[4713-01-01 BC,5874897-12-31)}',
            '{"(,)","[-2147483648,-2147483647]"}', '{"[-1e-100,0)","(,)"}', '{"[-infinity,infinity]"}',
            '{"{(,)}","{[-9223372036854775808,-9223372036854775807),[9223372036854775806,)}"}',
            ARRAY[('{[0,1' || repeat('3', 150) || ')}')::nummultirange], '[-infinity,2000-01-01 00:00+00]', '{[2000-01-01,infinity]}',
            '[-Infinity,Infinity]', ('[' || repeat('x', 200) || ',' || repeat('y', 300) || ']')::textrange,
            ('{[ünï,ünïcödé),[' || repeat('z', 150) || ',)}')::textmultirange, '(,)', '{"(,)",empty}',
            $$'\\as' ab\c ab\\c AB\\\c ab\\\\c 'w''s' ünïcödé:1,16383A a:3A,2B,1C,4 b:2a$$,
            '!1|2 & (3 <-> 4) & (5 <3> !6) & (a:* | b:AB | c:BCD*) & ((x|y) <0> z) & ünïcödé',
            ARRAY[''::tsvector, 'a:16383'::tsvector], ARRAY['!(a <-> b)'::tsquery, 'a:*A & !b:D'::tsquery],
            'abc def',
            '(1e+300,Infinity)', '[(1e+300,-1e+300),(1e+300,Infinity)]', '((11,12),(13,14))', '(Infinity,Infinity),(-Infinity,-Infinity)',
            '(0,1),(0,1)', '{-0.000184615384615,-1,15.3846153846}', '<(1e+300,Infinity),5>',
            ARRAY['(NaN,NaN)'::point, '(-5.0,-12.0)', '(1e-300,-1e-300)'], ARRAY['(1e+300,1e+300),(-1e-300,-1e-300)'::box],
            ARRAY['(3.0,1.0),(3.0,3.0),(1.0,0.0)'::polygon, NULL], ARRAY['<(3,5),NaN>'::circle], ARRAY['[(11,12),(13,14)]'::path], '(NaN,NaN)',
            E'<?xml version="1.0" encoding="UTF-8"?>\n<big>ü</big>',
            ARRAY[E'\n<a/>'::xml, '<?xml version="1.1" standalone="no"?><b/>', '<?xml-stylesheet href="s"?><r/>',
                  E'<?xml version = \'1.0\'  standalone = "yes" ?>\n<s/>', '<?xml version="1.0"?><t/>'],
            '4294967295', '_int4', '4294967295', 'int4pl(int4,int4)', '4294967295', '-(int8,int8)', 'simple', 'english_stem',
            'pg_toast', 'pg_read_all_data', 'ucs_basic', '{-,4294967295,"char"}',
            '1000:2000:1001,1500,1999', '3:3:', '{"100:200:150,160"}',
            '<?xml version="1.0" standalone="yes"?><doc/>',
            '4294967295', '18446744073709551615', '4294967295', '(4294967295,65535)', '{0,18446744073709551615}', '{"(4294967295,65535)"}');
        INSERT INTO all_types (id, c_numeric, c_numeric_scaled, c_float4, c_float8, c_jsonb, c_json, a_numeric, c_float8range)
            VALUES (5, 'NaN', 0, 'NaN', 'NaN', '0', 'null', '{1e-1000,1e1000,0.00000000000000000001}', '[-0,NaN]');
        INSERT INTO all_types (id, c_numeric, c_float4, c_float8, c_jsonb, c_varbit, c_interval, c_line, c_circle)
            VALUES (7, -0.0, '-0', '-0', '{"k": [1e-1000, -1e200, 0.1]}', B'1', '-178956970 years -7 months -2147483647 days -2562047788:00:54.775807',
                    '{3,NaN,5}', '<(3,5),NaN>');
        INSERT INTO all_types (id, c_text, c_bytea, c_jsonb, c_json, a_int4, a_text, c_varbit, c_numeric, c_bpchar, c_varchar,
                               c_int4multirange, c_nummultirange, c_tstzmultirange, a_int4range, c_tsvector, c_tsquery, c_path, c_polygon, c_xml)
            SELECT 6,
                   (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 3000) g),
                   (SELECT decode(string_agg(md5(g::text), ''), 'hex') FROM generate_series(1, 500) g),
                   (SELECT jsonb_object_agg('key' || g, repeat('v', g % 50)) FROM generate_series(1, 400) g),
                   ('[' || repeat('{"json": "long"}, ', 300) || '{}]')::json,
                   (SELECT array_agg(g) FROM generate_series(1, 20000) g),
                   (SELECT array_agg(repeat('t', g % 100)) FROM generate_series(1, 500) g),
                   (SELECT string_agg(CASE WHEN g % 3 = 0 THEN '1' ELSE '0' END, '')::varbit FROM generate_series(1, 70000) g),
                   ('1' || repeat('0', 3000) || '.' || repeat('7', 1000))::numeric,
                   'xyz', 'short',
                   (SELECT range_agg(int4range(g * 3, g * 3 + 1)) FROM generate_series(1, 5000) g),
                   (SELECT range_agg(numrange(g * 10::numeric ^ 100 + 0.5, g * 10::numeric ^ 100 + g % 9 + 1.5)) FROM generate_series(1, 300) g),
                   (SELECT range_agg(tstzrange('2000-01-01'::timestamptz + g * interval '1 day', '2000-01-01'::timestamptz + g * interval '1 day' + interval '1 hour'))
                    FROM generate_series(1, 3000) g),
                   (SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL WHEN g % 5 = 0 THEN 'empty' ELSE int4range(g, g * 2 + 1) END) FROM generate_series(1, 3000) g),
                   (SELECT string_agg('w' || g || CASE WHEN g % 3 = 0 THEN '' ELSE ':' || g || ',' || (g * 7 % 16000) || 'B' END, ' ')
                    FROM generate_series(1, 6000) g)::tsvector,
                   (SELECT string_agg('t' || g || CASE WHEN g % 2 = 0 THEN ':*' ELSE '' END, CASE WHEN g % 5 = 0 THEN ' | ' ELSE ' & ' END)
                    FROM generate_series(1, 200) g)::tsquery,
                   (SELECT ('[' || string_agg('(' || g || ',' || g * 1.5 || ')', ',') || ']')::path FROM generate_series(1, 5000) g),
                   (SELECT string_agg('(' || g % 97 || ',' || g / 7.0 || ')', ',')::polygon FROM generate_series(1, 3000) g),
                   ('<r>' || repeat('<e a="1">x ü</e>', 10000) || '</r>')::xml;
        INSERT INTO all_types (id, c_text) VALUES (8, repeat('compressible inline ', 200));
        INSERT INTO all_types (id, c_text) VALUES (9, repeat('x', 300000));
        INSERT INTO all_types (id, c_jsonb, a_jsonb, c_domain_array, c_json) VALUES (10,
            '{"all": "\b\f\n\r\t\u0007\u001b\u007f", "ключ": "значение", "emoji": "😀", "esc": "\\/\"", "e": "\u00e9",
              "nums": [0, -1, 1.0, 1.10, 100, 10000, 100000000, 0.0001, 1e-5, 12345678901234567890, -0.000000001, 1e+2, 9.99e300],
              "empty": [{}, [], [[]], {"a": {}}], "dup": 1, "dup": 2, "b": true, "c": false, "n": null}',
            ARRAY['{"a": [1, {"b": "c"}]}'::jsonb, NULL, '123.456'::jsonb],
            '{{1,2},{3,NULL}}', ' { "spaces" :  [ 1 , 2 ] } ');
        INSERT INTO all_types (id, c_domain_array, a_int4, a_text) VALUES (11, '{}', '{{{1,2},{3,4}},{{5,6},{7,8}}}', '[2:3]={"x",NULL}');
        """;
}
