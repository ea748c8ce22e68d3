using DataSync.Core.Archive;

namespace DataSync.Core.Tests.Archive;

public sealed class ArchiveFolderEventsTests
{
    [Fact]
    public async Task A_segment_renamed_into_the_folder_is_told_at_once()
    {
        var folder = Directory.CreateTempSubdirectory("datasync-folder-events-").FullName;
        try
        {
            var told = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var events = ArchiveFolderEvents.TryStart(folder, () => told.TrySetResult(), out var problem);
            Assert.True(events is not null, problem);

            // As archive_command does it: write under a temporary name, then rename.
            await File.WriteAllBytesAsync(Path.Combine(folder, "000000010000000000000001.tmp"), new byte[8192]);
            File.Move(Path.Combine(folder, "000000010000000000000001.tmp"), Path.Combine(folder, "000000010000000000000001"));

            Assert.Same(told.Task, await Task.WhenAny(told.Task, Task.Delay(TimeSpan.FromSeconds(10))));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_folder_that_does_not_exist_is_refused_with_the_reason()
    {
        var events = ArchiveFolderEvents.TryStart(Path.Combine(Path.GetTempPath(), "datasync-no-such-folder-" + Guid.NewGuid().ToString("N")), () => { }, out var problem);
        Assert.Null(events);
        Assert.False(string.IsNullOrEmpty(problem));
    }
}
