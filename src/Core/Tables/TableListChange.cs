namespace DataSync.Core.Tables;

/// <summary>What <c>add-tables</c> or <c>remove-tables</c> did, or would not do, for one table.</summary>
public enum TableListOutcome
{
    Added,
    AlreadyListed,
    Removed,
    NotListed,
    Refused,
}

/// <summary>The outcome for one table, with the reason when it was refused.</summary>
public sealed record TableListChange(TableName Table, TableListOutcome Outcome, string? Reason = null)
{
    public override string ToString() => Outcome switch
    {
        TableListOutcome.Added => $"added {Table}",
        TableListOutcome.AlreadyListed => $"{Table} is already synced; nothing to do",
        TableListOutcome.Removed => $"removed {Table} (its local data stays)",
        TableListOutcome.NotListed => $"{Table} is not in the sync list (datasync status --verbose lists the synced tables)",
        _ => $"refused {Table}: {Reason}",
    };
}
