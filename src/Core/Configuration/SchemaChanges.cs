namespace DataSync.Core.Configuration;

/// <summary>What an upstream change of a synced table's definition does (SCHEMA_CHANGES).</summary>
public enum SchemaChanges
{
    /// <summary>
    /// Columns added, dropped or renamed and widening type changes are applied to the local table at their place in
    /// commit order; any other definition change pauses the table.
    /// </summary>
    Follow,

    /// <summary>Any definition change pauses the table with a FAILED log (apply the DDL locally, then <c>resync</c>).</summary>
    Pause,
}
