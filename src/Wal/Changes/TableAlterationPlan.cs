using DataSync.Wal.Catalog;

namespace DataSync.Wal.Changes;

/// <summary>
/// What a synced table's columns went through between two of its definitions, as the local table must take it: the
/// <see cref="ColumnAlteration"/>s, or why the change cannot be followed (then the table stops, with that reason).
/// </summary>
/// <remarks>
/// Followed: columns added (NULL or a default stored as attmissingval for the rows already there), dropped (not a key
/// column) or renamed, and types widened: int2 → int4 → int8, varchar(n) → varchar(m ≥ n) or text, numeric(p,s) → a
/// numeric with at least as many digits before and after the point. A column added with a default evaluated per row
/// (a volatile one, an identity) makes PostgreSQL rewrite the table with a value per row: followed only when the rows
/// as the rewrite wrote them are carried along (the decoder keeps them and they replace the table's rows); a generated
/// column's expression is not in the WAL, so adding one is not followed.
/// </remarks>
public sealed class TableAlterationPlan
{
    private TableAlterationPlan(IReadOnlyList<ColumnAlteration> alterations, string? reason)
    {
        Alterations = alterations;
        Reason = reason;
    }

    public IReadOnlyList<ColumnAlteration> Alterations { get; }

    /// <summary>Why the change is not followed (what changed, in words); null when it is.</summary>
    public string? Reason { get; }

    /// <param name="rewritten">The table got a new file in the same transaction (PostgreSQL rewrote it).</param>
    /// <param name="perRowDefaults">The attnums of columns with a default that has no value stored for the rows already
    /// there (atthasdef without atthasmissing) or an identity: what a rewrite fills in row by row.</param>
    /// <param name="rowsCarried">The rows as the rewrite wrote them follow (every row of the table, with its own values).</param>
    public static TableAlterationPlan Between(TableDescriptor before, TableDescriptor after, bool rewritten, IReadOnlySet<short> perRowDefaults, TypeRegistry types,
        bool rowsCarried = false)
    {
        var drops = new List<ColumnAlteration>();
        var renames = new List<ColumnAlteration>();
        var retypes = new List<ColumnAlteration>();
        var additions = new List<ColumnAlteration>();
        if (after.Columns.Count < before.Columns.Count)
            return Refuse($"the table has {after.Columns.Count} columns where it had {before.Columns.Count}");

        for (var i = 0; i < before.Columns.Count; i++)
        {
            var was = before.Columns[i];
            var now = after.Columns[i];
            if (was.IsDropped)
            {
                if (!now.IsDropped) return Refuse($"dropped column {was.AttNum} is defined again");
                continue;
            }

            if (now.IsDropped)
            {
                if (before.KeyAttNums.Contains(was.AttNum)) return Refuse($"key column \"{was.Name}\" was dropped");
                drops.Add(new ColumnAlteration.Dropped(was));
                continue;
            }

            if (was.Name != now.Name) renames.Add(new ColumnAlteration.Renamed(was.AttNum, was.Name, now.Name));
            if (was.Generated != now.Generated) return Refuse($"column \"{now.Name}\" became {(now.Generated == '\0' ? "an ordinary column" : "a generated column")}");
            if (was.TypeOid != now.TypeOid || was.TypeModifier != now.TypeModifier)
            {
                var from = TypeText.Of(was.TypeOid, was.TypeModifier, Find(types, was.TypeOid));
                var to = TypeText.Of(now.TypeOid, now.TypeModifier, Find(types, now.TypeOid));
                if (!IsWidening(was, now))
                    return Refuse($"column \"{now.Name}\" changed type from {from} to {to}, which is not a widening the sync follows " +
                                  "(int2 to int4 or int8, int4 to int8, varchar(n) to varchar(m) with m ≥ n or to text, numeric(p,s) to a numeric " +
                                  "with no fewer digits before and after the point)");
                retypes.Add(new ColumnAlteration.Retyped(was, now, Find(types, now.TypeOid)));
            }
            else if (was.Length != now.Length || was.Alignment != now.Alignment || was.ByValue != now.ByValue)
            {
                return Refuse($"column \"{now.Name}\" changed how it is stored (length, alignment) without a change of type");
            }
        }

        for (var i = before.Columns.Count; i < after.Columns.Count; i++)
        {
            var added = after.Columns[i];
            // Added and dropped again before its transaction ended: nothing to do locally.
            if (added.IsDropped) continue;
            if (added.Generated != '\0')
                return Refuse($"column \"{added.Name}\" was added as a generated column, whose expression the WAL does not carry");
            if (rewritten && !rowsCarried && perRowDefaults.Contains(added.AttNum))
                return Refuse($"column \"{added.Name}\" was added with a default evaluated for each row (volatile, or an identity), so production " +
                              "rewrote the table with a value per row, which the WAL carries only as the rewritten file, not as row changes");
            additions.Add(new ColumnAlteration.Added(added, Find(types, added.TypeOid)));
        }

        return new TableAlterationPlan([.. drops, .. renames, .. retypes, .. additions], null);
    }

    /// <summary>Whether every value of <paramref name="was"/>'s type is a value of <paramref name="now"/>'s, unchanged.</summary>
    public static bool IsWidening(ColumnDescriptor was, ColumnDescriptor now)
    {
        const uint int2 = 21, int4 = 23, int8 = 20, text = 25, varchar = 1043, numeric = 1700;
        return (was.TypeOid, now.TypeOid) switch
        {
            (int2, int4) or (int2, int8) or (int4, int8) => true,
            (varchar, text) => true,
            (varchar, varchar) => now.TypeModifier < 0 || (was.TypeModifier >= 0 && now.TypeModifier >= was.TypeModifier),
            (numeric, numeric) => now.TypeModifier < 0 || (was.TypeModifier >= 0 && NumericWidens(was.TypeModifier, now.TypeModifier)),
            _ => false,
        };
    }

    /// <summary>numeric(p,s) modifiers: (p &lt;&lt; 16 | s) + 4. Wider when neither the digits after the point nor those before it shrink.</summary>
    private static bool NumericWidens(int was, int now)
    {
        int wasPrecision = (was - 4) >> 16, wasScale = (was - 4) & 0xFFFF, nowPrecision = (now - 4) >> 16, nowScale = (now - 4) & 0xFFFF;
        return nowScale >= wasScale && nowPrecision - nowScale >= wasPrecision - wasScale;
    }

    private static TypeDescriptor? Find(TypeRegistry types, uint typeOid) => types.TryGet(typeOid, out var type) ? type : null;

    private static TableAlterationPlan Refuse(string reason) => new([], reason);
}
