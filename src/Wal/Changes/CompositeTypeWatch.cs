using System.Buffers.Binary;
using DataSync.Wal.Catalog;
using DataSync.Wal.Typed;

namespace DataSync.Wal.Changes;

/// <summary>
/// Watches the pg_attribute rows of the composite types the synced tables' columns use (directly, in arrays, under
/// domains or inside other composites). A stored composite value is laid out by those rows, and ALTER TYPE … ADD,
/// DROP or ALTER ATTRIBUTE (or ALTER TABLE on a table whose row type is used) changes them without touching the
/// using table's own catalog rows: an insert into pg_attribute for the type's relation, or an update of one of its
/// rows. Either is reported as a schema change of every synced table that uses the type, since the catalog snapshot
/// decodes their values by the attributes as they were.
/// </summary>
/// <remarks>
/// Rows are recognised by position as <see cref="CatalogRowTracker"/> recognises the tables' own. They are not
/// followed through a rewrite of pg_attribute (VACUUM FULL pg_attribute): after one, a change of a composite is
/// only caught when its values stop decoding.
/// </remarks>
internal sealed class CompositeTypeWatch
{
    private const int AttributeRelidOffset = 0;

    private readonly Dictionary<uint, (string Type, int[] Tables)> _byRelation;
    private readonly Dictionary<ItemPointer, CatalogRowLocation> _rows = [];

    private CompositeTypeWatch(Dictionary<uint, (string Type, int[] Tables)> byRelation, CatalogLocations locations)
    {
        _byRelation = byRelation;
        foreach (var row in locations.Rows)
            if (!row.IsClassRow && byRelation.ContainsKey(row.RelationOid))
                _rows[new ItemPointer(row.Block, row.Offnum)] = row;
    }

    /// <summary>The positions of the watched rows, to be saved with the tables' own.</summary>
    public IEnumerable<CatalogRowLocation> Rows => _rows.Values;

    /// <summary>Null when no synced table uses a composite type.</summary>
    public static CompositeTypeWatch? Create(CatalogSnapshot catalog, CatalogLocations locations)
    {
        var types = catalog.CreateTypeRegistry();
        var users = new Dictionary<uint, (string Type, SortedSet<int> Tables)>();
        for (var i = 0; i < catalog.Tables.Count; i++)
        {
            var seen = new HashSet<uint>();
            foreach (var column in catalog.Tables[i].CopiedColumns) Visit(column.TypeOid, i, types, seen, users);
        }

        return users.Count == 0 ? null : new CompositeTypeWatch(users.ToDictionary(u => u.Key, u => (u.Value.Type, u.Value.Tables.ToArray())), locations);
    }

    private static void Visit(uint typeOid, int table, TypeRegistry types, HashSet<uint> seen, Dictionary<uint, (string Type, SortedSet<int> Tables)> users)
    {
        if (!seen.Add(typeOid) || !types.TryGet(typeOid, out var type)) return;
        if (type.IsComposite && type.RelationOid != 0)
        {
            if (!users.TryGetValue(type.RelationOid, out var use)) users[type.RelationOid] = use = (type.QualifiedName, []);
            use.Tables.Add(table);
            foreach (var attribute in type.Attributes ?? [])
                if (!attribute.IsDropped) Visit(attribute.TypeOid, table, types, seen, users);
        }

        if (type.IsArray) Visit(type.ElementOid, table, types, seen, users);
        if (type.IsDomain) Visit(type.BaseTypeOid, table, types, seen, users);
        if (type.RangeElementOid != 0) Visit(type.RangeElementOid, table, types, seen, users);
    }

    /// <summary>An UPDATE of pg_attribute: the composite whose row it changes, if a watched one.</summary>
    public (string Type, int[] Tables)? OnAttributeUpdate(in HeapUpdate update) =>
        _rows.TryGetValue(new ItemPointer(update.OldBlockNumber, update.OldOffnum), out var row) ? _byRelation[row.RelationOid] : null;

    /// <summary>An INSERT into pg_attribute, its tuple in WAL form: the composite it adds an attribute to, if a watched one.</summary>
    public (string Type, int[] Tables)? OnAttributeInsert(ReadOnlySpan<byte> walTuple)
    {
        if (walTuple.Length < HeapTupleImage.HeaderSize) return null;
        var dataStart = HeapTupleImage.HeaderSize + walTuple[4] - HeapTupleImage.OnPageHeaderSize;
        if (dataStart < 0 || dataStart + AttributeRelidOffset + 4 > walTuple.Length) return null;
        return OfRelation(BinaryPrimitives.ReadUInt32LittleEndian(walTuple[(dataStart + AttributeRelidOffset)..]));
    }

    /// <summary>One tuple of a MULTI_INSERT into pg_attribute: the composite it adds an attribute to, if a watched one.</summary>
    public (string Type, int[] Tables)? OnAttributeInsert(in HeapTupleImage tuple)
    {
        var dataStart = tuple.Hoff - HeapTupleImage.OnPageHeaderSize + AttributeRelidOffset;
        return dataStart >= 0 && dataStart + 4 <= tuple.Body.Length ? OfRelation(BinaryPrimitives.ReadUInt32LittleEndian(tuple.Body[dataStart..])) : null;
    }

    /// <summary>The composite whose relation is <paramref name="relationOid"/>, if a watched one.</summary>
    public (string Type, int[] Tables)? OfRelation(uint relationOid) => _byRelation.TryGetValue(relationOid, out var use) ? use : null;
}
