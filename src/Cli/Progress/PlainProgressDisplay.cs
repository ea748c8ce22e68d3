namespace DataSync.Cli.Progress;

/// <summary>
/// Progress when the output is not a terminal (a file, a pipe, a CI log): no redrawing, a whole line
/// (<see cref="ProgressText.Line"/>) when the phase changes and at most every <paramref name="interval"/> otherwise, so a
/// log of a long task stays short and every line in it stands on its own.
/// </summary>
public sealed class PlainProgressDisplay(TextWriter output, TimeProvider clock, TimeSpan interval) : IProgressDisplay
{
    /// <summary>How often a plain line is printed while the phase stays the same.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(2);

    private string? _phase;
    private DateTimeOffset _printedAt;

    public void Show(ProgressFrame frame)
    {
        var now = clock.GetUtcNow();
        if (frame.Phase == _phase && now - _printedAt < interval) return;
        _phase = frame.Phase;
        _printedAt = now;
        output.WriteLine(ProgressText.Line(frame));
        output.Flush();
    }

    public void Message(string line)
    {
        output.WriteLine(line);
        output.Flush();
    }

    public void Finish(string line) => Message(line);

    /// <summary>Every plain line stands whole: there is nothing to erase.</summary>
    public void Clear()
    {
    }
}
