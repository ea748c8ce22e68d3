namespace DataSync.TestRig;

/// <summary>Process checks for tests that kill or stop servers and daemons.</summary>
public static class Processes
{
    /// <summary>
    /// True while the process exists and is not a zombie. In containers whose init does not reap,
    /// a stopped server lingers as a zombie: it holds no port, no files and no locks, so it counts as gone.
    /// </summary>
    public static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state is not ("Z" or "X");
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The processes whose command line names <paramref name="path"/> (a server started with its data folder there), as "pid: command line".</summary>
    public static List<string> Naming(string path)
    {
        var found = new List<string>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out _)) continue;
            try
            {
                var commandLine = File.ReadAllText(Path.Combine(folder, "cmdline")).Replace('\0', ' ');
                if (commandLine.Contains(path, StringComparison.Ordinal)) found.Add($"{Path.GetFileName(folder)}: {commandLine}");
            }
            catch (IOException)
            {
                // Ended meanwhile.
            }
            catch (UnauthorizedAccessException)
            {
                // Not ours to read.
            }
        }

        return found;
    }
}
