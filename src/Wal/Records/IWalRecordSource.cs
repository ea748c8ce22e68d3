namespace DataSync.Wal.Records;

/// <summary>
/// WAL records in LSN order, whatever their origin: segment files read one after the other
/// (<see cref="WalRecordReader"/>) or segments framed in parallel and handed over in order
/// (<see cref="FramedRecordReader"/>). Both give the same records and stop the same way.
/// </summary>
public interface IWalRecordSource : IDisposable
{
    /// <summary>The current record; reused, valid until the next <see cref="MoveNext"/>.</summary>
    WalRecord Current { get; }

    /// <summary>Why reading stopped, once it has (<see cref="WalReadEnd.None"/> while reading).</summary>
    WalReadEnd End { get; }

    /// <summary>Once <see cref="End"/> is set: where valid WAL ends, where reading would resume.</summary>
    Lsn EndLsn { get; }

    /// <summary>The timeline of the segment file being read now (after a switch, the new one).</summary>
    uint Timeline { get; }

    /// <summary>
    /// Advances to the next record: true with <see cref="Current"/> set, false when there is no
    /// record to give now, or a <see cref="WalFormatException"/> for bad input (thrown again on
    /// every later call).
    /// </summary>
    bool MoveNext();
}
