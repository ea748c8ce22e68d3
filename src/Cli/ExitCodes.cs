namespace DataSync.Cli;

/// <summary>The process exit codes every command uses, as <c>--help</c> documents them.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The command was understood but failed at run time (database unreachable, table refused, corrupt WAL...).</summary>
    public const int Failure = 1;

    /// <summary>Bad command line or configuration; nothing was done.</summary>
    public const int Usage = 2;

    public const string HelpText = "Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.";
}
