using DataSync.Core.Sync;

namespace DataSync.Core.Tests.Sync;

/// <summary>The table states and the words datasync_table_state.state holds for them (no migration: the words stay).</summary>
public sealed class TableStateTextTests
{
    [Theory]
    [InlineData(TableState.New, "new")]
    [InlineData(TableState.Syncing, "syncing")]
    [InlineData(TableState.Paused, "paused")]
    [InlineData(TableState.Cleared, "cleared")]
    [InlineData(TableState.ResyncRequested, "resync-requested")]
    [InlineData(TableState.Failed, "failed")]
    [InlineData(TableState.Verifying, "verifying")]
    public void Each_state_maps_to_its_column_word_and_back(TableState state, string text)
    {
        Assert.Equal(text, state.ToText());
        Assert.Equal(state, TableStateText.Parse(text));
    }

    [Fact]
    public void Every_state_has_a_word()
    {
        Assert.Equal(Enum.GetValues<TableState>().Length, Enum.GetValues<TableState>().Select(s => s.ToText()).Distinct().Count());
    }

    [Fact]
    public void An_unknown_word_is_refused_naming_it()
    {
        var error = Assert.Throws<FormatException>(() => TableStateText.Parse("Syncing"));
        Assert.Contains("'Syncing'", error.Message);
    }
}
