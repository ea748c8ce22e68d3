namespace DataSync.Messages.Control;

/// <summary>
/// The daemon's answer to a <see cref="ControlRequest"/>: the lines the CLI prints to standard output
/// and standard error, and the exit code it returns.
/// </summary>
public sealed record ControlReply(int ExitCode, IReadOnlyList<string> Output, IReadOnlyList<string> Errors) : IDataSyncMessage
{
    public static ControlReply Ok(params string[] output) => new(0, output, []);

    public static ControlReply Failed(int exitCode, params string[] errors) => new(exitCode, [], errors);
}
