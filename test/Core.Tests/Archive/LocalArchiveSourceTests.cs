using DataSync.Core.Archive;

namespace DataSync.Core.Tests.Archive;

/// <summary>The local archive folder is listed while an archiver writes into it.</summary>
public sealed class LocalArchiveSourceTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("datasync-archive-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task A_file_renamed_away_while_the_folder_is_listed_is_left_out_instead_of_failing_the_scan()
    {
        // The archiver copies each segment to NAME.tmp and renames it, as many archive_commands do (the soak hit this).
        await File.WriteAllBytesAsync(Path.Combine(_folder, "000000010000000000000001"), new byte[4096]);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var renames = 0;
        var archiver = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var name = $"{0x10 + renames % 1000:X24}";
                var temporary = Path.Combine(_folder, name + ".tmp");
                File.WriteAllBytes(temporary, [1, 2, 3]);
                File.Move(temporary, Path.Combine(_folder, name), overwrite: true);
                renames++;
            }
        });

        var source = new LocalArchiveSource(_folder);
        var listings = 0;
        while (!stop.IsCancellationRequested)
        {
            var listing = await source.ListAsync(CancellationToken.None);
            Assert.Contains(listing, e => e.Name == "000000010000000000000001" && e.Size == 4096);
            listings++;
        }

        await archiver;
        Assert.True(renames > 100 && listings > 100, $"{renames} renames, {listings} listings: too few to have raced");
    }
}
