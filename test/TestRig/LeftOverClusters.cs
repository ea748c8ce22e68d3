using System.Globalization;
using DataSync.Core.Embedded;

namespace DataSync.TestRig;

/// <summary>
/// Clusters of test runs that were killed before they could clean up: each cluster folder names the
/// process that made it; when that process is gone, its servers are stopped and the folder removed.
/// </summary>
internal static class LeftOverClusters
{
    public const string OwnerFile = "owner.pid";

    public static async Task RemoveAsync(string temporaryRoot, PostgresBinaries binaries, ServerAccount account)
    {
        if (!Directory.Exists(temporaryRoot)) return;
        foreach (var folder in Directory.EnumerateDirectories(temporaryRoot))
        {
            var ownerFile = Path.Combine(folder, OwnerFile);
            if (File.Exists(ownerFile) &&
                int.TryParse(File.ReadAllText(ownerFile), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) &&
                IsAlive(pid))
                continue;

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

            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // Still in use by something we cannot stop; the next run tries again.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}");
}
