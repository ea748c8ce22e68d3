#!/usr/bin/env bash
# Captures PostGIS values as a server stores them and as its send functions emit them, for the
# geometry/geography converter's tests (test/Wal.Tests/Values/Fixtures/postgis.tsv). The embedded
# PostgreSQL 18 has no PostGIS, so this runs Debian's PostgreSQL 15 with postgresql-15-postgis-3 in a
# throwaway cluster: the serialized form (GSERIALIZED) is PostGIS's own and does not depend on the
# server's version. The test suite only reads the committed fixture; it never needs PostGIS.
#
#   sudo scripts/capture-postgis-fixture.sh            # writes the fixture
#   sudo scripts/capture-postgis-fixture.sh OUT.tsv    # writes elsewhere
#
# Needs root (to apt-get install the packages when they are missing and to run the cluster as the
# unprivileged user postgres). Each fixture line, tab-separated:
#   id  type  label  stored  datum  send
# stored: the attribute's bytes in the heap tuple as pageinspect returns them (a TOAST pointer for
# a TOASTed value); datum: the same value detoasted, without its varlena header; send: the value's
# field in the server's COPY … TO STDOUT (FORMAT binary), which is the type's send function's output.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo_root/test/Wal.Tests/Values/Fixtures/postgis.tsv}"
pg_bin=/usr/lib/postgresql/15/bin

if [[ ! -x "$pg_bin/postgres" || ! -f /usr/share/postgresql/15/extension/postgis.control ]]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 postgresql-contrib postgresql-15-postgis-3
fi

work="$(mktemp -d /tmp/postgis-capture.XXXXXX)"
chown postgres "$work"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
as_pg() { runuser -u postgres -- "$@"; }
stop() { as_pg "$pg_bin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap stop EXIT

as_pg "$pg_bin/initdb" -D "$work/data" -U postgres --no-sync -E UTF8 --locale=C >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$work/data" -w -l "$work/log" \
  -o "-p $port -k $work -c listen_addresses=''" start >/dev/null
psql_() { as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$work" -p "$port" -U postgres -d postgres "$@"; }

psql_ <<'SQL'
CREATE EXTENSION postgis;
CREATE EXTENSION pageinspect;
-- One table per type: label says what the value is; the values follow PostGIS's own regression
-- tests (regress/core/empty.sql, wkb.sql, sql-mm-*.sql, tin.sql, polyhedralsurface.sql, geography.sql).
CREATE TABLE geom (id int PRIMARY KEY, label text NOT NULL, g geometry);
CREATE TABLE geog (id int PRIMARY KEY, label text NOT NULL, g geography);
INSERT INTO geom (id, label, g)
SELECT row_number() OVER (), v, v::geometry FROM unnest(ARRAY[
  'POINT EMPTY', 'POINT Z EMPTY', 'POINT M EMPTY', 'POINT ZM EMPTY',
  'LINESTRING EMPTY', 'LINESTRING ZM EMPTY', 'POLYGON EMPTY', 'POLYGON Z EMPTY', 'TRIANGLE EMPTY',
  'MULTIPOINT EMPTY', 'MULTILINESTRING EMPTY', 'MULTIPOLYGON EMPTY', 'GEOMETRYCOLLECTION EMPTY',
  'GEOMETRYCOLLECTION M EMPTY', 'CIRCULARSTRING EMPTY', 'COMPOUNDCURVE EMPTY', 'CURVEPOLYGON EMPTY',
  'MULTICURVE EMPTY', 'MULTISURFACE EMPTY', 'POLYHEDRALSURFACE EMPTY', 'TIN EMPTY',
  'SRID=4326;POINT EMPTY', 'SRID=4326;GEOMETRYCOLLECTION EMPTY',
  'POINT(1 2)', 'POINT(-0 1e308)', 'SRID=4326;POINT(-71.064544 42.28787)', 'SRID=999999;POINT(1 1)',
  'SRID=-1;POINT(1 1)', 'POINT Z (1 2 3)', 'POINT M (1 2 3)', 'POINT ZM (1 2 3 4)',
  'SRID=3857;POINT ZM (1 2 3 4)',
  'LINESTRING(0 0,1 1)', 'LINESTRING(0 0,1 1,2 3,4 -5)', 'LINESTRING Z (0 0 0,1 1 1,2 2 2)',
  'LINESTRING M (0 0 0,1 1 1)', 'SRID=4326;LINESTRING ZM (0 0 0 0,1 1 1 1,2 2 2 2)',
  'POLYGON((0 0,10 0,10 10,0 10,0 0))',
  'POLYGON((0 0,10 0,10 10,0 10,0 0),(1 1,1 2,2 2,2 1,1 1))',
  'POLYGON((0 0,10 0,10 10,0 10,0 0),(1 1,1 2,2 2,2 1,1 1),(5 5,5 6,6 6,6 5,5 5))',
  'SRID=32632;POLYGON ZM ((0 0 1 2,10 0 1 2,10 10 1 2,0 0 1 2),(1 1 1 2,1 2 1 2,2 2 1 2,1 1 1 2))',
  'POLYGON M ((0 0 1,10 0 1,10 10 1,0 0 1))',
  'MULTIPOINT((0 0),(1 2))', 'MULTIPOINT Z ((0 0 0),(1 2 3))', 'SRID=4326;MULTIPOINT((1 1))',
  'MULTILINESTRING((0 0,1 1),(2 2,3 3,4 4))', 'MULTILINESTRING(EMPTY,(0 0,1 1))',
  'MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((2 2,3 2,3 3,2 2),(2.1 2.1,2.2 2.1,2.2 2.2,2.1 2.1)))',
  'MULTIPOLYGON Z (((0 0 0,1 0 0,1 1 0,0 0 0)),EMPTY)',
  'GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1),GEOMETRYCOLLECTION(POINT EMPTY,POLYGON((0 0,1 0,1 1,0 0)),GEOMETRYCOLLECTION EMPTY))',
  'SRID=4326;GEOMETRYCOLLECTION ZM (POINT ZM (1 2 3 4),MULTIPOINT ZM ((1 2 3 4)),GEOMETRYCOLLECTION ZM (LINESTRING ZM (0 0 0 0,1 1 1 1)))',
  'GEOMETRYCOLLECTION(POINT EMPTY)', 'GEOMETRYCOLLECTION(TRIANGLE((0 0,0 1,1 1,0 0)),CIRCULARSTRING(0 0,1 1,2 0))',
  'CIRCULARSTRING(0 0,1 1,2 0)', 'CIRCULARSTRING ZM (0 0 0 0,1 1 1 1,2 0 2 2)',
  'COMPOUNDCURVE(CIRCULARSTRING(0 0,1 1,1 0),(1 0,0 1))',
  'SRID=4326;COMPOUNDCURVE Z ((0 0 0,1 1 1),CIRCULARSTRING Z (1 1 1,2 2 2,3 1 3))',
  'CURVEPOLYGON(CIRCULARSTRING(0 0,4 0,4 4,0 4,0 0),(1 1,3 3,3 1,1 1))',
  'CURVEPOLYGON(COMPOUNDCURVE(CIRCULARSTRING(0 0,2 0,2 1,2 3,4 3),(4 3,4 5,1 4,0 0)),CIRCULARSTRING(1.7 1,1.4 0.4,1.6 0.4,1.6 0.5,1.7 1))',
  'MULTICURVE((0 0,5 5),CIRCULARSTRING(4 0,4 4,8 4))',
  'MULTICURVE M (COMPOUNDCURVE M (CIRCULARSTRING M (0 0 1,1 1 1,1 0 1),(1 0 1,0 1 1)),(0 0 0,1 1 1))',
  'MULTISURFACE(CURVEPOLYGON(CIRCULARSTRING(0 0,4 0,4 4,0 4,0 0),(1 1,3 3,3 1,1 1)),((10 10,14 12,11 10,10 10),(11 11,11.5 11,11 11.5,11 11)))',
  'POLYHEDRALSURFACE Z (((0 0 0,0 0 1,0 1 1,0 1 0,0 0 0)),((0 0 0,0 1 0,1 1 0,1 0 0,0 0 0)),((0 0 0,1 0 0,1 0 1,0 0 1,0 0 0)))',
  'POLYHEDRALSURFACE(((0 0,0 1,1 1,0 0)))',
  'TIN Z (((0 0 0,0 0 1,0 1 0,0 0 0)),((0 0 0,0 1 0,1 1 0,0 0 0)))', 'TIN(((0 0,0 1,1 0,0 0)))',
  'TRIANGLE((0 0,0 9,9 0,0 0))', 'SRID=4326;TRIANGLE ZM ((0 0 0 0,0 9 0 0,9 0 0 0,0 0 0 0))'
]) AS v;
-- Built rather than parsed: NaN and infinite ordinates, a multipoint holding an empty point.
INSERT INTO geom VALUES
  (1001, 'POINT(NaN Infinity)', ST_MakePoint('NaN', 'Infinity')),
  (1002, 'POINT ZM (-Infinity 1 NaN 2)', ST_MakePoint('-Infinity', 1, 'NaN', 2)),
  (1003, 'MULTIPOINT(EMPTY,(1 1))', ST_Collect('POINT EMPTY'::geometry, 'POINT(1 1)'::geometry)),
  (1004, 'NULL', NULL);
-- Large values: geometry's storage is MAIN, so a value is compressed and stays inline unless that still
-- leaves it too big for the page; with STORAGE EXTERNAL it goes out of line uncompressed.
INSERT INTO geom
SELECT 2001, 'large LINESTRING (compressed, out of line)',
       ST_SetSRID(ST_MakeLine(ARRAY(SELECT ST_MakePoint(i % 97, i / 97.0) FROM generate_series(1, 5000) i)), 4326);
INSERT INTO geom
SELECT 2002, 'large POLYGON with 100 holes (compressed inline)',
       ST_MakePolygon(ST_ExteriorRing(ST_MakeEnvelope(0, 0, 1000, 1000)),
         ARRAY(SELECT ST_ExteriorRing(ST_MakeEnvelope(i * 3 + 1, 1, i * 3 + 2, 2)) FROM generate_series(0, 99) i));
ALTER TABLE geom ALTER COLUMN g SET STORAGE EXTERNAL;
INSERT INTO geom
SELECT 2003, 'large LINESTRING ZM (uncompressed, out of line)',
       ST_MakeLine(ARRAY(SELECT ST_MakePoint(random() * 1e6, random(), i, -i) FROM generate_series(1, 200) i));

INSERT INTO geog (id, label, g)
SELECT row_number() OVER (), v, v::geography FROM unnest(ARRAY[
  'POINT EMPTY', 'POINT(1 2)', 'SRID=4326;POINT(-71.064544 42.28787)', 'SRID=4269;POINT(-71 42)',
  'SRID=0;POINT(3 4)', 'POINT Z (1 2 3)', 'POINT M (1 2 3)', 'POINT ZM (1 2 3 4)',
  'LINESTRING EMPTY', 'LINESTRING(0 0,1 1)', 'LINESTRING(-179 -89,179 89,0 0)', 'LINESTRING ZM (0 0 0 0,1 1 1 1)',
  'POLYGON EMPTY', 'POLYGON((0 0,10 0,10 10,0 10,0 0),(1 1,1 2,2 2,2 1,1 1))',
  'MULTIPOINT((0 0),(1 2))', 'MULTILINESTRING((0 0,1 1),(2 2,3 3))',
  'MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((2 2,3 2,3 3,2 2)))',
  'GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1),GEOMETRYCOLLECTION EMPTY)',
  'GEOMETRYCOLLECTION EMPTY'
]) AS v;
INSERT INTO geog
SELECT 2001, 'large LINESTRING (compressed inline)',
       ST_MakeLine(ARRAY(SELECT ST_MakePoint(i % 97, (i % 170) - 85) FROM generate_series(1, 1000) i))::geography;
SQL

# A solid (polyhedral surface flagged solid) is written with the extended flags of serialization v2.
# ST_MakeSolid lives in postgis_sfcgal, which may be missing: the value is then left out.
psql_ <<'SQL' || echo "postgis_sfcgal unavailable: no solid captured" >&2
CREATE EXTENSION postgis_sfcgal;
INSERT INTO geom VALUES (3001, 'solid POLYHEDRALSURFACE Z',
  ST_MakeSolid('POLYHEDRALSURFACE Z (((0 0 0,0 1 0,1 1 0,1 0 0,0 0 0)),((0 0 0,0 0 1,0 1 1,0 1 0,0 0 0)),((0 0 0,1 0 0,1 0 1,0 0 1,0 0 0)),((1 1 1,1 0 1,1 0 0,1 1 0,1 1 1)),((1 1 1,1 1 0,0 1 0,0 1 1,1 1 1)),((1 1 1,0 1 1,0 0 1,1 0 1,1 1 1)))'));
SQL

mkdir -p "$(dirname "$out")"
version="$(psql_ -At -c "SELECT postgis_lib_version() || ' on PostgreSQL ' || current_setting('server_version')")"
{
  echo "# PostGIS $version; captured by scripts/capture-postgis-fixture.sh"
  echo "# id	type	label	stored	datum	send"
  for table in geom geog; do
    type=$([[ $table == geom ]] && echo geometry || echo geography)
    psql_ -c "COPY (SELECT id, g FROM $table ORDER BY id) TO STDOUT (FORMAT binary)" > "$work/$table.copy"
    psql_ -At -F $'\t' -c "
      SELECT get_byte(s.t_attrs[1], 0) + 256 * get_byte(s.t_attrs[1], 1) + 65536 * get_byte(s.t_attrs[1], 2),
             encode(s.t_attrs[3], 'hex'), encode(d.t_attrs[3], 'hex')
      FROM generate_series(0, pg_relation_size('$table') / 8192 - 1) AS b,
           heap_page_item_attrs(get_raw_page('$table', b::int), '$table'::regclass, false) AS s
           JOIN heap_page_item_attrs(get_raw_page('$table', b::int), '$table'::regclass, true) AS d USING (lp)
      WHERE s.t_attrs IS NOT NULL" > "$work/$table.attrs"
    psql_ -At -F $'\t' -c "SELECT id, label FROM $table ORDER BY id" > "$work/$table.labels"
    python3 - "$type" "$work/$table.copy" "$work/$table.attrs" "$work/$table.labels" <<'PY'
import struct, sys
kind, copy_path, attrs_path, labels_path = sys.argv[1:]
data = open(copy_path, 'rb').read()
assert data[:11] == b'PGCOPY\n\xff\r\n\0'
pos = 11 + 4
ext, = struct.unpack_from('>i', data, pos); pos += 4 + ext
sent = {}
while True:
    count, = struct.unpack_from('>h', data, pos); pos += 2
    if count == -1: break
    assert count == 2
    fields = []
    for _ in range(count):
        n, = struct.unpack_from('>i', data, pos); pos += 4
        fields.append(None if n < 0 else data[pos:pos + n]); pos += max(n, 0)
    sent[struct.unpack('>i', fields[0])[0]] = fields[1]
stored = {}
for line in open(attrs_path):
    i, s, d = line.rstrip('\n').split('\t')
    stored[int(i)] = (s, d)
for line in open(labels_path):
    i, label = line.rstrip('\n').split('\t', 1)
    i = int(i)
    s, d = stored[i]
    send = sent[i]
    print('\t'.join([str(i), kind, label, s, d, '-' if send is None else send.hex()]))
PY
  done
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $(grep -vc '^#' "$out") values to $out" >&2
