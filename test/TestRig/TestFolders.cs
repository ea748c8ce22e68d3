namespace DataSync.TestRig;

internal static class TestFolders
{
    /// <summary>Removes a test cluster's folder; files the server account made are root-removable, and a non-root run owns them.</summary>
    public static void Remove(string root)
    {
        try
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // Left for LeftOverClusters to remove on the next run.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
