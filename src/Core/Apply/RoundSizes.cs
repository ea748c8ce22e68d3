namespace DataSync.Core.Apply;

/// <summary>
/// How many rows a table's round takes before it is merged. The local server has nothing to do until the first round of
/// a batch is full, and in a catch-up the decoder fills it from the backlog while the server waits: so a batch's rounds
/// start at an eighth of the full size and double up to it, and the server starts early while large rounds still do
/// the bulk of the work.
/// </summary>
internal sealed class RoundSizes
{
    private readonly int _full;
    private readonly int _first;

    public RoundSizes(int full)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(full, 1);
        _full = full;
        _first = Math.Max(1, full / 8);
        Current = _first;
    }

    /// <summary>The rows the round being filled takes.</summary>
    public int Current { get; private set; }

    /// <summary>A round was handed to the server: the next one takes twice as many rows, up to the full size.</summary>
    public void Grow() => Current = (int)Math.Min(_full, 2L * Current);

    /// <summary>A new batch starts small again.</summary>
    public void Restart() => Current = _first;
}
