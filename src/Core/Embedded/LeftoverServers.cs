using System.Globalization;
namespace DataSync.Core.Embedded;

/// <summary>
/// Servers of runs that were killed before they could clean up (test clusters, temporary restores):
/// each such folder names the process that made it in <see cref="OwnerFile"/>; when that process is
/// gone, the servers below the folder are stopped and the folder removed.
/// </summary>
public static class LeftoverServers
{
    public const string OwnerFile = "owner.pid";

    /// <summary>Marks <paramref name="folder"/> as owned by this process.</summary>
    public static void Claim(string folder) =>
        File.WriteAllText(Path.Combine(folder, OwnerFile), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));

    /// <summary>Removes the folders below <paramref name="temporaryRoot"/> whose owner is gone. Returns the folders removed.</summary>
    public static async Task<IReadOnlyList<string>> RemoveAsync(string temporaryRoot, PostgresBinaries binaries, ServerAccount account)
    {
        var removed = new List<string>();
        if (!Directory.Exists(temporaryRoot)) return removed;
        foreach (var folder in Directory.EnumerateDirectories(temporaryRoot))
        {
            try
            {
                if (IsOwned(folder)) continue;
                foreach (var pidFile in Directory.EnumerateFiles(folder, "postmaster.pid", SearchOption.AllDirectories))
                {
                    var dataDirectory = Path.GetDirectoryName(pidFile)!;
                    try
                    {
                        await account.RunAsync(binaries.PgCtl, ["-D", dataDirectory, "-m", "immediate", "stop"]).ConfigureAwait(false);
                    }
                    catch (InvalidOperationException)
                    {
                        // Not running any more: only the folder is left.
                    }
                }

                Directory.Delete(folder, recursive: true);
                removed.Add(folder);
            }
            catch (DirectoryNotFoundException)
            {
                // Its owner removed it meanwhile.
            }
            catch (IOException)
            {
                // Still in use by something we cannot stop; the next run tries again.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return removed;
    }

    /// <summary>How long a folder without its owner file is taken as being made: its maker writes the file just after the folder.</summary>
    private static readonly TimeSpan BeingMade = TimeSpan.FromMinutes(1);

    /// <summary>True when a live process owns <paramref name="folder"/>, or it is too new to have its owner file yet (another process sharing the root is making it).</summary>
    private static bool IsOwned(string folder)
    {
        var ownerFile = Path.Combine(folder, OwnerFile);
        if (!File.Exists(ownerFile)) return DateTime.UtcNow - Directory.GetCreationTimeUtc(folder) < BeingMade;
        return int.TryParse(File.ReadAllText(ownerFile), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) && IsAlive(pid);
    }

    private static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}");
}
