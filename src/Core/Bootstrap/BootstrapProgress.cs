using DataSync.Core.Tables;
using DataSync.Wal;

namespace DataSync.Core.Bootstrap;

/// <summary>
/// The running bootstrap's progress, as a fact anyone may read while the bootstrap code moves it on: which phase it is
/// in, the bytes of the base backup restored, how far the temporary restore has replayed toward its target, and the
/// rows each table's copy has streamed. The bootstrap writes from its own threads (copies run side by side), readers
/// (<c>status</c>, <c>resync --wait</c>) take a <see cref="Snapshot"/> from others, so every change is under one lock
/// except the counters the hot loops add to, which are atomic. It also keeps how the last attempt that concerned a
/// table ended, when it did not copy it, so a reader can tell a failure from a bootstrap that has not run yet.
/// </summary>
public sealed class BootstrapProgress
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, BootstrapAttemptEnd> _lastEnds = new(StringComparer.Ordinal);
    private readonly TimeProvider _clock;
    private Attempt? _running;

    public BootstrapProgress(TimeProvider? clock = null) => _clock = clock ?? TimeProvider.System;

    /// <summary>An attempt for <paramref name="tables"/> starts; what an earlier one reported is gone.</summary>
    public void Begin(IEnumerable<TableName> tables)
    {
        lock (_lock) _running = new Attempt(tables.Select(t => t.ToString()).ToList(), _clock.GetTimestamp());
    }

    /// <summary>The attempt has ended, whatever its outcome; nothing runs until the next <see cref="Begin"/>.</summary>
    public void End()
    {
        lock (_lock) _running = null;
    }

    /// <summary>
    /// The attempt that concerned <paramref name="tables"/> did not copy them: it waits for something (<paramref name="failed"/>
    /// false) or failed, for <paramref name="message"/>. Kept until another attempt ends for them.
    /// </summary>
    public void Ended(IEnumerable<TableName> tables, bool failed, string message)
    {
        var end = new BootstrapAttemptEnd(failed, message, _clock.GetUtcNow());
        lock (_lock)
        {
            foreach (var table in tables) _lastEnds[table.ToString()] = end;
        }
    }

    /// <summary>A table was copied: an earlier wait or failure no longer describes it.</summary>
    public void Copied(TableName table)
    {
        lock (_lock) _lastEnds.Remove(table.ToString());
    }

    /// <summary>How the last attempt that did not copy <paramref name="table"/> ended; null when none did since its last copy.</summary>
    public BootstrapAttemptEnd? LastEndOf(string table)
    {
        lock (_lock) return _lastEnds.GetValueOrDefault(table);
    }

    /// <summary>Enters <paramref name="phase"/>; <paramref name="note"/> says what it waits for, if anything.</summary>
    public void Enter(BootstrapPhase phase, string? note = null)
    {
        lock (_lock)
        {
            if (_running is { } running) EnterLocked(running, phase, note);
        }
    }

    private void EnterLocked(Attempt running, BootstrapPhase phase, string? note = null)
    {
        if (running.Phase != phase) running.PhaseStart = _clock.GetTimestamp();
        running.Phase = phase;
        running.Note = note;
    }

    /// <summary>Copying base backup <paramref name="backup"/>'s files starts: <paramref name="totalBytes"/> of them.</summary>
    public void Restoring(string backup, long totalBytes)
    {
        lock (_lock)
        {
            if (_running is not { } running) return;
            EnterLocked(running, BootstrapPhase.Restoring);
            running.BaseBackup = backup;
            running.RestoreTotal = totalBytes;
            Interlocked.Exchange(ref running.Restored, 0);
        }
    }

    /// <summary>Another <paramref name="bytes"/> of the backup are in the restore.</summary>
    public void AddRestored(long bytes)
    {
        var running = Volatile.Read(ref _running);
        if (running is not null) Interlocked.Add(ref running.Restored, bytes);
    }

    /// <summary>The restore replays from <paramref name="from"/> toward <paramref name="target"/>.</summary>
    public void Replaying(Lsn from, Lsn target)
    {
        lock (_lock)
        {
            if (_running is not { } running) return;
            // A replay that goes on to wait for open transactions is the waiting phase, not a second replay.
            if (running.Phase != BootstrapPhase.Waiting) EnterLocked(running, BootstrapPhase.Replaying);
            running.ReplayFrom = from;
            running.Replayed = from;
            running.ReplayTarget = target;
        }
    }

    /// <summary>The restore has replayed up to <paramref name="at"/>.</summary>
    public void Replayed(Lsn at)
    {
        lock (_lock)
        {
            if (_running is { } running && at > running.Replayed) running.Replayed = at;
        }
    }

    /// <summary>
    /// <paramref name="table"/>'s copy starts, with about <paramref name="estimatedRows"/> rows (null: unknown). The meter
    /// returned takes the rows as they stream.
    /// </summary>
    public TableCopyMeter Copying(TableName table, long? estimatedRows)
    {
        var meter = new TableCopyMeter(table.ToString(), estimatedRows, _clock);
        lock (_lock)
        {
            if (_running is not { } running) return meter;
            EnterLocked(running, BootstrapPhase.Copying);
            running.Copies.RemoveAll(c => c.Table == meter.Table);
            running.Copies.Add(meter);
        }

        return meter;
    }

    /// <summary>The running bootstrap now; null when none runs.</summary>
    public BootstrapProgressSnapshot? Snapshot()
    {
        lock (_lock)
        {
            if (_running is not { } running) return null;
            return new BootstrapProgressSnapshot(
                running.Tables,
                running.Phase,
                running.Note,
                running.BaseBackup,
                _clock.GetElapsedTime(running.Start),
                _clock.GetElapsedTime(running.PhaseStart),
                Interlocked.Read(ref running.Restored),
                running.RestoreTotal,
                running.ReplayFrom,
                running.Replayed,
                running.ReplayTarget,
                running.Copies.Select(c => c.Snapshot()).ToList());
        }
    }

    /// <summary>One attempt's mutable state; <see cref="Restored"/> is added to without the lock.</summary>
    private sealed class Attempt(IReadOnlyList<string> tables, long start)
    {
        public long Restored;

        public IReadOnlyList<string> Tables { get; } = tables;
        public long Start { get; } = start;
        public long PhaseStart { get; set; } = start;
        public BootstrapPhase Phase { get; set; } = BootstrapPhase.Preparing;
        public string? Note { get; set; }
        public string? BaseBackup { get; set; }
        public long RestoreTotal { get; set; }
        public Lsn ReplayFrom { get; set; }
        public Lsn Replayed { get; set; }
        public Lsn ReplayTarget { get; set; }
        public List<TableCopyMeter> Copies { get; } = [];
    }
}
