using DataSync.Wal.Changes;

namespace DataSync.Wal.Tests.Changes;

/// <summary>The per-transaction buffer: entries come back in order and intact across spills, and spill files go away.</summary>
public sealed class TransactionLogTests : IDisposable
{
    private readonly SpillStore _spill = new(Path.Combine(Path.GetTempPath(), $"datasync-log-tests-{Environment.UserName}", Guid.NewGuid().ToString("N")));

    [Fact]
    public void Entries_round_trip_through_memory_and_spill_file_in_order()
    {
        var random = new Random(7);
        var expected = new List<(BufferedEntryKind Kind, ushort Table, uint Xid, ulong Lsn, byte[] First, byte[] Second)>();
        using (var log = new TransactionLog(1234, _spill))
        {
            for (var i = 0; i < 3000; i++)
            {
                // Mostly small entries (they straddle the reader's file blocks), a few larger than a memory chunk, some
                // larger than a whole file block.
                var first = new byte[random.Next(10) == 0 ? random.Next(60_000, 3 * TransactionLog.Reader.FileBlockSize) : random.Next(0, 300)];
                var second = new byte[random.Next(0, 50)];
                random.NextBytes(first);
                random.NextBytes(second);
                var entry = ((BufferedEntryKind)random.Next(1, 12), (ushort)random.Next(5), (uint)random.Next(), (ulong)i * 100, first, second);
                expected.Add(entry);
                log.Append(entry.Item1, entry.Item2, entry.Item3, new Lsn(entry.Item4), first, second);
                if (i == 699) log.Spill();
                // After the first spill, entries go straight to the file.
                if (i >= 699) Assert.Equal(0, log.MemoryBytes);
            }

            Assert.True(log.HasSpilled);
            Assert.Equal(0, log.MemoryBytes);
            Assert.Single(_spill.Files());

            var reader = log.Read();
            var index = 0;
            while (reader.MoveNext())
            {
                var entry = reader.Current;
                var want = expected[index++];
                Assert.Equal(want.Kind, entry.Kind);
                Assert.Equal(want.Table, entry.Table);
                Assert.Equal(want.Xid, entry.Xid);
                Assert.Equal(want.Lsn, entry.Lsn.Value);
                Assert.True(entry.First.SequenceEqual(want.First), $"entry {index - 1}: first payload differs");
                Assert.True(entry.Second.SequenceEqual(want.Second), $"entry {index - 1}: second payload differs");
            }

            Assert.Equal(expected.Count, index);
            Assert.Equal(expected.Count, log.EntryCount);
        }

        Assert.Empty(_spill.Files());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_cleared_log_gives_back_only_what_came_after_from_memory_or_its_emptied_spill_file(bool spilled)
    {
        using var log = new TransactionLog(77, _spill);
        for (var i = 0; i < 500; i++) log.Append(BufferedEntryKind.Insert, 1, 77, new Lsn((ulong)i), new byte[100 + i % 7]);
        if (spilled) log.Spill();
        Assert.Equal(500, log.EntryCount);
        log.Clear();
        Assert.Equal(0, log.EntryCount);
        Assert.Equal(0, log.MemoryBytes);
        Assert.Equal(0, log.SpilledBytes);
        Assert.Equal(spilled, log.HasSpilled);
        Assert.False(log.Read().MoveNext());

        for (var i = 0; i < 300; i++) log.Append(BufferedEntryKind.Update, 2, 77, new Lsn(1000 + (ulong)i), [(byte)i], [(byte)(i + 1)]);
        // A log that spilled keeps writing to its (emptied) file.
        Assert.Equal(spilled, log.MemoryBytes == 0);
        var reader = log.Read();
        var seen = 0;
        while (reader.MoveNext())
        {
            Assert.Equal(BufferedEntryKind.Update, reader.Current.Kind);
            Assert.Equal(1000 + (ulong)seen, reader.Current.Lsn.Value);
            Assert.Equal((byte)seen, reader.Current.First[0]);
            seen++;
        }

        Assert.Equal(300, seen);
        Assert.Equal(500L * 24 + Enumerable.Range(0, 500).Sum(i => 100 + i % 7) + 300L * 26, log.AppendedBytes);
        if (spilled) Assert.Equal(300L * 26, new FileInfo(_spill.Files().Single()).Length);
    }

    [Fact]
    public void The_store_counts_each_spilled_byte_once_and_one_file_per_transaction()
    {
        var entries = 0L;
        using (var log = new TransactionLog(77, _spill))
        using (var other = new TransactionLog(78, _spill))
        {
            for (var i = 0; i < 500; i++)
            {
                log.Append(BufferedEntryKind.Insert, 0, 77, new Lsn((ulong)i), new byte[100 + i % 7], new byte[i % 3]);
                entries += TransactionLog.HeaderSize + 100 + i % 7 + i % 3;
                // Asked to spill again and again: what went to the file already is not written again.
                if (i % 100 == 50) log.Spill();
            }

            other.Append(BufferedEntryKind.Delete, 1, 78, new Lsn(1), new byte[10]);
            other.Spill();
            Assert.Equal(entries, log.SpilledBytes);
            Assert.Equal(log.SpilledBytes + other.SpilledBytes, _spill.BytesWritten);
            Assert.Equal(2, _spill.FilesCreated);

            // Reading back writes nothing.
            var reader = log.Read();
            while (reader.MoveNext()) { }
            Assert.Equal(log.SpilledBytes + other.SpilledBytes, _spill.BytesWritten);
        }

        // The counts outlive the files.
        Assert.Empty(_spill.Files());
        Assert.Equal(2, _spill.FilesCreated);
    }

    [Fact]
    public void Head_and_body_of_the_first_payload_are_joined()
    {
        using var log = new TransactionLog(1, null);
        log.Append(BufferedEntryKind.Insert, 0, 3, 9, new Lsn(42), [1, 2], [3, 4, 5], [6]);
        var reader = log.Read();
        Assert.True(reader.MoveNext());
        Assert.Equal([1, 2, 3, 4, 5], reader.Current.First.ToArray());
        Assert.Equal([6], reader.Current.Second.ToArray());
        Assert.False(reader.MoveNext());
        Assert.Throws<InvalidOperationException>(log.Spill);
    }

    [Fact]
    public void Sweep_removes_only_spill_files()
    {
        File.WriteAllText(Path.Combine(_spill.Directory, "xid-5-1-1" + SpillStore.FileExtension), "orphan");
        File.WriteAllText(Path.Combine(_spill.Directory, "keep.txt"), "not ours");
        Assert.Equal(1, _spill.SweepOrphans());
        Assert.Empty(_spill.Files());
        Assert.True(File.Exists(Path.Combine(_spill.Directory, "keep.txt")));
    }

    public void Dispose() => Directory.Delete(_spill.Directory, recursive: true);
}
