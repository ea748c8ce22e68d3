namespace DataSync.Actors.Hosting;

/// <summary>
/// STATE_DIR/logs/daemon.out: the console of a daemon that <c>datasync start</c> detached. The daemon logs to
/// its rolled file, not here; this keeps only what is written outside that log (the failure line of a start
/// that failed, a runtime crash), so it grows by a few lines per start. It is still bounded: past
/// <see cref="LimitBytes"/> it is rolled over at the next start, keeping <see cref="KeptFiles"/> older ones.
/// </summary>
public static class DaemonConsoleLog
{
    public const long LimitBytes = 1024 * 1024;
    public const int KeptFiles = 3;

    public static string PathIn(string stateDirectory) => Path.Combine(Path.GetDirectoryName(DaemonLog.FilePath(stateDirectory))!, "daemon.out");

    /// <summary>Moves <c>daemon.out</c> to <c>daemon.out.1</c> (and so on, the oldest dropped) once it has reached the limit.</summary>
    public static void RollIfFull(string path, long limitBytes = LimitBytes, int keptFiles = KeptFiles)
    {
        if (!File.Exists(path) || new FileInfo(path).Length < limitBytes) return;
        File.Delete($"{path}.{keptFiles}");
        for (var n = keptFiles - 1; n >= 1; n--)
        {
            if (File.Exists($"{path}.{n}")) File.Move($"{path}.{n}", $"{path}.{n + 1}");
        }

        File.Move(path, $"{path}.1");
    }

    /// <summary>
    /// What a start that failed has to say, from the part of the console log it wrote: the CLI's own
    /// <c>datasync: …</c> lines when there are any, else the last lines; never a stack trace's frames.
    /// </summary>
    public static IReadOnlyList<string> FailureLines(IReadOnlyList<string> written)
    {
        var own = written.Where(l => l.StartsWith("datasync: ", StringComparison.Ordinal)).ToList();
        if (own.Count > 0) return own;
        return written.Where(l => !IsStackFrame(l)).TakeLast(10).ToList();
    }

    private static bool IsStackFrame(string line)
    {
        var trimmed = line.TrimStart();
        return (trimmed.Length < line.Length && trimmed.StartsWith("at ", StringComparison.Ordinal)) || trimmed.StartsWith("--- End of", StringComparison.Ordinal);
    }
}
