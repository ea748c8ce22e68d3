namespace DataSync.Wal.Values;

/// <summary>How a supported base type goes from its on-disk bytes to its binary send form.</summary>
public enum SendForm : byte
{
    /// <summary>Same bytes (bool, "char", uuid, macaddr, macaddr8).</summary>
    Verbatim,
    /// <summary>One little-endian integer or float turned big-endian (int2/4/8, oid and the reg* OID types, float4/8, date, time,
    /// timestamp[tz], money, pg_lsn).</summary>
    ByteSwapped,
    /// <summary>timetz: i64 microseconds, i32 zone.</summary>
    TimeWithZone,
    /// <summary>interval: i64 microseconds, i32 days, i32 months.</summary>
    Interval,
    /// <summary>Varlena payload as is (bytea).</summary>
    VarlenaBytes,
    /// <summary>Varlena payload as is, which is text in the server encoding (text, varchar, bpchar, json).</summary>
    Text,
    /// <summary>name: 64 bytes, sent up to the first NUL.</summary>
    Name,
    Numeric,
    Jsonb,
    /// <summary>jsonpath: version byte 1, then the path printed from its stored item tree.</summary>
    JsonPath,
    Inet,
    Cidr,
    /// <summary>bit and varbit: bit count then the bit bytes.</summary>
    BitString,
    /// <summary>A range over a supported subtype: flags byte, then the bounds present.</summary>
    Range,
    /// <summary>A multirange: range count, then each range as a length-prefixed range.</summary>
    Multirange,
    /// <summary>tsvector: lexeme count, then each lexeme as NUL-terminated text, position count, positions.</summary>
    TextSearchVector,
    /// <summary>tsquery: item count, then each operand or operator in prefix order.</summary>
    TextSearchQuery,
    /// <summary>point, lseg, line, box, circle: float8s, each byte-swapped, in stored order.</summary>
    Float8s,
    /// <summary>path: closed flag, point count, points.</summary>
    Path,
    /// <summary>polygon: point count, points (the stored bounding box is not sent).</summary>
    Polygon,
    /// <summary>xml: the text, its XML declaration re-printed for UTF8 as xml_send does.</summary>
    Xml,
    /// <summary>pg_snapshot, txid_snapshot: in-progress count, xmin, xmax, the in-progress ids.</summary>
    Snapshot,
    /// <summary>tid: stored as the block number's two 16-bit halves (high first) and the offset; sent as a
    /// 32-bit block number and a 16-bit offset.</summary>
    Tid,
    /// <summary>hstore (extension hstore): pair count, then each key and value as length-prefixed text (-1 for a NULL value).</summary>
    Hstore,
    /// <summary>ltree (extension ltree): version byte 1, then the labels joined by dots.</summary>
    Ltree,
    /// <summary>lquery (extension ltree): version byte 1, then the query as the server prints it.</summary>
    Lquery,
    /// <summary>ltxtquery (extension ltree): version byte 1, then the query printed infix as the server prints it.</summary>
    Ltxtquery,
    /// <summary>cube (extension cube): its header word, then its coordinates, each byte-swapped.</summary>
    Cube,
    /// <summary>geometry and geography (extension postgis): the serialized form as extended WKB, little-endian.</summary>
    Geometry,
    /// <summary>The isn types (extension isn): no binary send and receive functions, so written as text, the 13 digits of the
    /// stored EAN number and a <c>!</c> when it was entered with a wrong check digit (see <see cref="TypePlan.IsText"/>).</summary>
    IsnText,
}
