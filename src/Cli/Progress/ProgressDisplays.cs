namespace DataSync.Cli.Progress;

/// <summary>Picks the display for a command's standard output: the redrawn bar on a terminal, plain lines otherwise.</summary>
public static class ProgressDisplays
{
    /// <summary>Assumed when the terminal does not tell its width.</summary>
    private const int DefaultColumns = 80;

    /// <param name="context">The command's context: its standard output, and whether that is a terminal.</param>
    /// <param name="plainOutput">Where plain lines go when standard output is not a terminal (standard output when null); a command
    /// whose standard output is its result for scripts (verify's verdicts) sends them to standard error instead.</param>
    public static IProgressDisplay For(CliContext context, TextWriter? plainOutput = null) => context.OutputIsTerminal
        ? new TerminalProgressDisplay(context.Out, () => TerminalColumns(context))
        : new PlainProgressDisplay(plainOutput ?? context.Out, TimeProvider.System, PlainProgressDisplay.DefaultInterval);

    /// <summary>The terminal's width now (it may change while a bar runs), else COLUMNS, else 80.</summary>
    private static int TerminalColumns(CliContext context)
    {
        try
        {
            if (Console.WindowWidth is > 0 and var columns) return columns;
        }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException or InvalidOperationException)
        {
            // No terminal to ask after all: fall back below.
        }

        return int.TryParse(context.Environment("COLUMNS"), System.Globalization.CultureInfo.InvariantCulture, out var fromEnvironment) && fromEnvironment > 0
            ? fromEnvironment
            : DefaultColumns;
    }
}
