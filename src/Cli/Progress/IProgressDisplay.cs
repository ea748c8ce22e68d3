namespace DataSync.Cli.Progress;

/// <summary>
/// Where a long command shows how far it has got: a bar redrawn in place on a terminal
/// (<see cref="TerminalProgressDisplay"/>), or a line every few seconds when the output goes to a file or a pipe
/// (<see cref="PlainProgressDisplay"/>). The command hands it frames as often as it learns something; the display decides
/// what reaches the screen.
/// </summary>
public interface IProgressDisplay
{
    /// <summary>The progress now.</summary>
    void Show(ProgressFrame frame);

    /// <summary>A line that stays (printed above the bar on a terminal).</summary>
    void Message(string line);

    /// <summary>The last line: the bar, if any, gives way to it.</summary>
    void Finish(string line);

    /// <summary>The bar, if one shows, is erased, so that the command's own output follows on a clean line.</summary>
    void Clear();
}
