using DataSync.Wal;
using DataSync.Wal.Changes;

namespace DataSync.Core.Sync;

/// <summary>
/// Runs a <see cref="TransactionEndScout"/>'s looks on the thread pool, one at a time, so the decoder never waits for
/// one: the first ask for a transaction starts a look and answers "not yet"; an ask after the look ended gets what it
/// found, or starts the next look when it found nothing (the scout goes on where it stopped). A look reads every
/// segment between the decoder and the end it finds (some 150 MB for a 1M-row insert), which on the decoder's thread
/// cost as much as the apply the parts were to overlap with (docs/benchmarks.md, session 15).
/// </summary>
public sealed class TransactionEndLookout(TransactionEndScout scout)
{
    private readonly Lock _gate = new();
    private Task<TransactionEnd?>? _look;
    private uint _lookingFor;

    /// <summary>For <see cref="ReassemblerOptions.EndAhead"/>: the end of <paramref name="xid"/> once a look found it; null meanwhile.</summary>
    public TransactionEnd? Find(uint xid, Lsn from)
    {
        lock (_gate)
        {
            if (_look is { } look)
            {
                if (!look.IsCompleted) return null;
                _look = null;
                // A failed look is a look that found nothing: the decoder reports what is wrong with the WAL when it gets there.
                // One that found nothing goes on (from where it stopped) with this ask: more may be spooled by now.
                if (_lookingFor == xid && look.IsCompletedSuccessfully && look.Result is { } found) return found;
            }

            _lookingFor = xid;
            _look = Task.Run(() => scout.Find(xid, from));
            return null;
        }
    }
}
