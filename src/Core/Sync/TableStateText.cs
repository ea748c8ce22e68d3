namespace DataSync.Core.Sync;

/// <summary>
/// The words <c>datasync_table_state.state</c> holds for each <see cref="TableState"/>. The column keeps its text
/// (operators query it, and the SQL that sets a state outright writes these words), so the enum is mapped here,
/// in one place, both ways.
/// </summary>
public static class TableStateText
{
    public static string ToText(this TableState state) => state switch
    {
        TableState.New => "new",
        TableState.Syncing => "syncing",
        TableState.Paused => "paused",
        TableState.Cleared => "cleared",
        TableState.ResyncRequested => "resync-requested",
        TableState.Failed => "failed",
        TableState.Verifying => "verifying",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "not a table state"),
    };

    public static TableState Parse(string text) => text switch
    {
        "new" => TableState.New,
        "syncing" => TableState.Syncing,
        "paused" => TableState.Paused,
        "cleared" => TableState.Cleared,
        "resync-requested" => TableState.ResyncRequested,
        "failed" => TableState.Failed,
        "verifying" => TableState.Verifying,
        _ => throw new FormatException($"'{text}' is not a table state in datasync_table_state"),
    };
}
