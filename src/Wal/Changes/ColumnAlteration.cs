using DataSync.Wal.Catalog;

namespace DataSync.Wal.Changes;

/// <summary>
/// One change of a synced table's columns that the decoder followed (see <see cref="TableAlteredEvent"/>). Types are
/// given as production's type OID and modifier, with the catalog's description of the type when the synced tables'
/// catalog holds it (a type of production's own, whose OID means nothing locally), null for a built-in type.
/// </summary>
public abstract record ColumnAlteration
{
    private ColumnAlteration()
    {
    }

    /// <summary>A column added at the end; <see cref="ColumnDescriptor.MissingValue"/> is the value the rows already there take.</summary>
    public sealed record Added(ColumnDescriptor Column, TypeDescriptor? Type) : ColumnAlteration
    {
        public override string ToString() => $"column \"{Column.Name}\" added ({TypeText.Of(Column.TypeOid, Column.TypeModifier, Type)}" +
                                             (Column.HasMissing ? ", with a default the rows already there take" : "") + ")";
    }

    /// <summary>A column dropped (<see cref="Column"/> as it was).</summary>
    public sealed record Dropped(ColumnDescriptor Column) : ColumnAlteration
    {
        public override string ToString() => $"column \"{Column.Name}\" dropped";
    }

    /// <summary>A column renamed.</summary>
    public sealed record Renamed(short AttNum, string From, string To) : ColumnAlteration
    {
        public override string ToString() => $"column \"{From}\" renamed to \"{To}\"";
    }

    /// <summary>A column's type widened (<see cref="To"/> carries the column's current name).</summary>
    public sealed record Retyped(ColumnDescriptor From, ColumnDescriptor To, TypeDescriptor? Type) : ColumnAlteration
    {
        public override string ToString() =>
            $"column \"{To.Name}\" changed type from {TypeText.Of(From.TypeOid, From.TypeModifier, null)} to {TypeText.Of(To.TypeOid, To.TypeModifier, Type)}";
    }
}
