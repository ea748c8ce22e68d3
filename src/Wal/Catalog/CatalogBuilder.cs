using System.Buffers.Binary;

namespace DataSync.Wal.Catalog;

/// <summary>Turns the rows of the catalog queries (DataSync.Core.Catalog.CatalogQueries, run by whoever holds a database client) into a <see cref="CatalogSnapshot"/>.</summary>
public static class CatalogBuilder
{
    public static CatalogSnapshot Build(
        Lsn capturedAt,
        IEnumerable<TableRow> tables,
        IEnumerable<ColumnRow> columns,
        IEnumerable<TypeDescriptor> types,
        IEnumerable<EnumLabel> enumLabels)
    {
        var columnsByTable = columns.GroupBy(c => c.RelationOid).ToDictionary(g => g.Key, g => g.OrderBy(c => c.AttNum).ToList());
        var built = new List<TableDescriptor>();
        foreach (var t in tables)
        {
            var name = $"{t.Schema}.{t.Name}";
            if (!columnsByTable.TryGetValue(t.RelationOid, out var rows) || rows.Count == 0)
                throw new CatalogException($"table {name} (OID {t.RelationOid}): no columns were read");

            var descriptors = new List<ColumnDescriptor>(rows.Count);
            foreach (var row in rows)
            {
                if (row.AttNum != descriptors.Count + 1)
                    throw new CatalogException($"table {name}: attribute numbers are not contiguous at attnum {row.AttNum}");
                descriptors.Add(ToDescriptor(name, row));
            }

            IReadOnlyList<short>? rowOrder = null;
            if (t.RootName is not null)
            {
                if (!columnsByTable.TryGetValue(t.RootOid, out var rootRows))
                    throw new CatalogException($"partition {name} of {t.RootSchema}.{t.RootName} (OID {t.RootOid}): the partitioned table's columns were not read");
                rowOrder = RowOrder(name, $"{t.RootSchema}.{t.RootName}", rootRows, descriptors);
            }

            built.Add(new TableDescriptor(t.Schema, t.Name, t.RelationOid, t.RelFileNode, t.TablespaceOid, t.DatabaseOid,
                t.ToastRelationOid, t.ToastRelFileNode, t.ReplicaIdentity, t.KeyAttNums, descriptors, t.RootSchema, t.RootName, rowOrder));
        }

        return new CatalogSnapshot(capturedAt, built, types.ToList(), enumLabels.ToList());
    }

    /// <summary>
    /// A partition's attnums in the order of its root's copied columns, matched by name (rows are applied
    /// to the root, whose column list they must follow); null when that is the partition's own order.
    /// </summary>
    private static IReadOnlyList<short>? RowOrder(string partition, string root, List<ColumnRow> rootRows, List<ColumnDescriptor> columns)
    {
        var byName = columns.Where(c => c.IsCopied).ToDictionary(c => c.Name, c => c.AttNum, StringComparer.Ordinal);
        var order = new List<short>();
        foreach (var rootColumn in rootRows.Where(r => !r.IsDropped && r.Generated == '\0'))
        {
            if (!byName.Remove(rootColumn.Name, out var attNum))
                throw new CatalogException($"partition {partition} of {root} has no copied column \"{rootColumn.Name}\" that its partitioned table has");
            order.Add(attNum);
        }

        if (byName.Count > 0)
            throw new CatalogException($"partition {partition} of {root} has column(s) {string.Join(", ", byName.Keys)} that its partitioned table lacks");
        return order.SequenceEqual(columns.Where(c => c.IsCopied).Select(c => c.AttNum)) ? null : order;
    }

    private static ColumnDescriptor ToDescriptor(string table, ColumnRow row)
    {
        byte[]? missing = null;
        if (row.HasMissing && row.MissingValueArray is not null)
            missing = ElementOfSingleElementArray(row.MissingValueArray, $"table {table}, column {row.Name}");
        // A type carried as text has its default carried as the server's text for it, which its input function reads back.
        else if (row.HasMissing && row.MissingValueText is not null)
            missing = System.Text.Encoding.UTF8.GetBytes(row.MissingValueText);
        return new ColumnDescriptor(row.AttNum, row.Name, row.TypeOid, row.TypeModifier, row.Length, row.Alignment,
            row.ByValue, row.Storage, row.IsDropped, row.NotNull, row.HasMissing, missing, row.Generated);
    }

    /// <summary>attmissingval arrives as a one-element array in send form; the default is its one
    /// element, already in the send form COPY BINARY wants (null for a NULL element).</summary>
    internal static byte[]? ElementOfSingleElementArray(ReadOnlySpan<byte> array, string what)
    {
        // ndim, has_nulls, element type, then (dim, lbound) per dimension, then (length, bytes) per element.
        if (array.Length < 20 || BinaryPrimitives.ReadInt32BigEndian(array) != 1
            || BinaryPrimitives.ReadInt32BigEndian(array[12..]) != 1)
            throw new CatalogException($"{what}: attmissingval is not a one-element array");
        if (array.Length < 24) throw new CatalogException($"{what}: attmissingval is truncated");
        var length = BinaryPrimitives.ReadInt32BigEndian(array[20..]);
        if (length == -1) return null;
        if (length < 0 || 24 + length != array.Length)
            throw new CatalogException($"{what}: attmissingval element length {length} does not fit the {array.Length}-byte array");
        return array.Slice(24, length).ToArray();
    }
}
