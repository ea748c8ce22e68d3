namespace DataSync.Core.IO;

/// <summary>
/// Turns a name that came from input (a tar entry, a file name an sftp server listed, a line of
/// tablespace_map) into a path below a destination folder, refusing any name that would land outside
/// it: absolute names, <c>..</c> steps, empty steps. Path.Combine alone would let an absolute name
/// replace the destination.
/// </summary>
public static class ContainedPath
{
    /// <summary>The full path of <paramref name="relativeName"/> (slash-separated) below <paramref name="root"/>.</summary>
    /// <param name="source">Names the file the name came from, for the error.</param>
    /// <exception cref="InvalidDataException">The name would leave <paramref name="root"/>.</exception>
    public static string Resolve(string root, string relativeName, string source)
    {
        if (!IsRelativeAndInside(relativeName))
            throw new InvalidDataException($"{source}: entry '{Printable(relativeName)}' would be written outside {root}; refused");
        var fullRoot = Path.GetFullPath(root);
        var full = Path.GetFullPath(Path.Combine(fullRoot, relativeName));
        var prefix = fullRoot.EndsWith(Path.DirectorySeparatorChar) ? fullRoot : fullRoot + Path.DirectorySeparatorChar;
        if (full != fullRoot && !full.StartsWith(prefix, StringComparison.Ordinal))
            throw new InvalidDataException($"{source}: entry '{Printable(relativeName)}' would be written outside {root}; refused");
        return full;
    }

    /// <summary>Whether <paramref name="name"/> is one plain file or folder name: not empty, no slash, not . or .., no NUL.</summary>
    public static bool IsPlainName(string name) =>
        name.Length > 0 && name is not ("." or "..") && name.IndexOfAny(['/', '\0']) < 0;

    private static bool IsRelativeAndInside(string name)
    {
        if (name.Length == 0 || name[0] == '/' || name.Contains('\0', StringComparison.Ordinal)) return false;
        foreach (var step in name.Split('/'))
            if (step == "..") return false;
        return true;
    }

    /// <summary>The name with control characters escaped, so a hostile name cannot forge log lines.</summary>
    public static string Printable(string name) =>
        string.Concat(name.Select(c => char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString()));
}
