using System.Buffers.Binary;
using System.Text;
using DataSync.Wal.Catalog;
using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;
using DataSync.Wal.Typed;
using DataSync.Wal.Values;

namespace DataSync.Wal.Changes;

/// <summary>
/// Groups the heap changes of the synced tables by top-level transaction as WAL records go by (in
/// LSN order) and hands out each transaction when it commits, in commit order; what aborts, rolls
/// back to a savepoint or is rolled back as a prepared transaction is dropped. Follows TRUNCATE,
/// new relfilenodes and definition changes of the synced tables through the catalog rows.
/// </summary>
/// <remarks>
/// <para>Subtransactions: a subtransaction's first record names its top-level xid (block id 252)
/// under wal_level=logical, ASSIGNMENT records list them too; their changes go into the top-level
/// transaction's log tagged with their own xid, and at commit only the xids the commit record lists
/// (the top-level one and its committed subtransactions) are kept. This is what
/// src/backend/replication/logical/decode.c and reorderbuffer.c do, restated.</para>
/// <para>Memory: all open transactions together keep at most <see cref="ReassemblerOptions.MemoryLimitBytes"/>
/// in memory; past that the largest one is spilled to its file (<see cref="SpillPolicy"/>).</para>
/// <para>Catalog: which file is which synced relation, and the catalog changes that alter it, are the
/// <see cref="CatalogFollower"/>'s; this class hands it the catalog records and the commits.</para>
/// <para>Start: records before <c>start</c> are read only to learn which transactions were already
/// running there (their xids, and RUNNING_XACTS records); such a transaction's commit is reported
/// with <see cref="CommittedTransaction.StartedBeforeDecoding"/> and no changes.</para>
/// </remarks>
public sealed class TransactionReassembler : IDisposable
{
    // The first record of every transaction running now, by top-level xid where known (the restart point).
    private readonly Dictionary<uint, Lsn> _firstRecord = [];
    // For each of them, the first commit or abort time the WAL showed after its first record (a bound on when it
    // began: the WAL stamps only ends of transactions), filled in at the next end; and those still waiting for one.
    private readonly Dictionary<uint, DateTimeOffset> _openBy = [];
    private readonly List<uint> _awaitingTime = [];
    private readonly IReadOnlyList<TableDescriptor> _tables;
    private readonly ReassemblerOptions _options;
    private Lsn _lastEnd;
    private readonly Lsn _start;
    private readonly Dictionary<uint, OpenTransaction> _open = [];
    private readonly Dictionary<uint, uint> _topOf = [];
    private readonly HashSet<uint> _runningAtStart;
    private readonly SpillPolicy _spill;
    private readonly CatalogFollower _catalog;
    private readonly ChangeMaterializer _materializer;
    private TransactionLog? _emitted;
    // The committing transaction's xid and its committed subtransactions': one set, filled anew at each commit (what a
    // commit emits is read before the next record is processed).
    private readonly HashSet<uint> _committed = [];
    // A part of an open transaction's rows handed out ahead of its commit (ReassemblerOptions.EndAhead), and the
    // transaction whose log it was read from, cleared before the next record is processed.
    private CommittedTransaction? _part;
    private OpenTransaction? _partRead;

    public TransactionReassembler(CatalogSnapshot catalog, CatalogLocations? locations, Lsn start, ReassemblerOptions? options = null)
    {
        _tables = catalog.Tables;
        _options = options ?? new ReassemblerOptions();
        _start = start;
        _runningAtStart = [.. _options.RunningAtStart];
        _spill = new SpillPolicy(_options.MemoryLimitBytes, _options.Spill, _open);
        // Both delegates made once here: the follower calls them for catalog records without allocating.
        _catalog = new CatalogFollower(catalog, locations, _spill, Transaction, TopOf, _options.FollowSchemaChanges);
        _materializer = new ChangeMaterializer(_tables, catalog.CreateValueConverter(), catalog.CapturedAt);
    }

    internal CatalogRowTracker? CatalogTracker => _catalog.Tracker;

    /// <summary>Open transactions now.</summary>
    public int OpenTransactionCount => _open.Count;

    /// <summary>Bytes of buffered changes held in memory now.</summary>
    public long MemoryBytes => _spill.MemoryBytes;

    /// <summary>The most memory held at once so far.</summary>
    public long PeakMemoryBytes => _spill.PeakMemoryBytes;

    /// <summary>Transactions written to spill files so far (counted once each).</summary>
    public int SpilledTransactions => _spill.SpilledTransactions;

    /// <summary>
    /// Where decoding must restart to lose nothing once everything emitted so far is applied: the
    /// first record of the oldest open transaction, or null when none is open.
    /// </summary>
    public Lsn? RestartLsn
    {
        get
        {
            // Every transaction still running counts, not only those that touched a synced table yet: a
            // restart between its first record (a row lock, a change to another table) and its first
            // change would meet that record before the start and have to treat it as begun before decoding.
            Lsn? oldest = null;
            foreach (var first in _firstRecord.Values)
                if (oldest is null || first < oldest) oldest = first;
            foreach (var transaction in _open.Values)
                if (oldest is null || transaction.FirstLsn < oldest) oldest = transaction.FirstLsn;
            return oldest;
        }
    }

    /// <summary>The newest commit or abort time read from the WAL so far (production's clock); null before the first.</summary>
    public DateTimeOffset? NewestWalTime { get; private set; }

    /// <summary>
    /// The transaction that holds <see cref="RestartLsn"/> back: the running one whose first record is the oldest,
    /// with that record's position and the first time the WAL showed after it; null when none is running.
    /// </summary>
    public OldestOpenTransaction? OldestOpen
    {
        get
        {
            OldestOpenTransaction? oldest = null;
            foreach (var (xid, first) in _firstRecord)
                if (oldest is null || first < oldest.FirstLsn) oldest = new OldestOpenTransaction(xid, first, _openBy.TryGetValue(xid, out var by) ? by : null);
            foreach (var transaction in _open.Values)
            {
                if (oldest is null || transaction.FirstLsn < oldest.FirstLsn)
                    oldest = new OldestOpenTransaction(transaction.Xid, transaction.FirstLsn, _openBy.TryGetValue(transaction.Xid, out var by) ? by : null);
            }

            return oldest;
        }
    }

    /// <summary>
    /// The catalog as the decoder now knows it, to restart decoding from here later: the snapshot
    /// with each table's current heap and TOAST relfilenodes and the current positions of the
    /// tracked catalog rows, as of the end of the last record processed. Consistent for a restart
    /// at <see cref="RestartLsn"/> only when no transaction is open (moves count at commit).
    /// Tables whose schema changed keep their old descriptor: they need a new snapshot anyway; columns followed through
    /// an ALTER (<see cref="ReassemblerOptions.FollowSchemaChanges"/>) are in their tables' descriptors.
    /// </summary>
    public (CatalogSnapshot Catalog, CatalogLocations? Locations) CurrentCatalog() => _catalog.Current(_lastEnd, _materializer.Tables);

    /// <summary>True once the table's schema-change event was emitted: its rows are no longer decoded.</summary>
    public bool IsSuspended(TableDescriptor table) => _catalog.TryTableOf(table.RelationOid, out var i) && _materializer.IsSuspended(i);

    /// <summary>
    /// Takes the next record. Returns the transaction this record commits when it touched a synced
    /// table (or started before the start LSN); its changes must be read before the next call.
    /// </summary>
    public CommittedTransaction? Process(WalRecord record)
    {
        if (_emitted is not null)
        {
            _emitted.Dispose();
            _emitted = null;
        }

        if (_partRead is { } read)
        {
            _partRead = null;
            _spill.Release(read.Log);
            read.Log.Clear();
        }

        _lastEnd = record.EndLsn;
        if (record.Lsn < _start)
        {
            LearnBeforeStart(record);
            return null;
        }

        if (record.TopLevelXid != 0 && record.Xid != 0 && record.Xid != record.TopLevelXid)
            MapSubxact(record.Xid, record.TopLevelXid, record.Lsn);
        if (record.Xid != 0 && _firstRecord.TryAdd(TopOf(record.Xid), record.Lsn)) _awaitingTime.Add(TopOf(record.Xid));

        switch (record.Rmgr)
        {
            case RmgrId.Heap:
                OnHeap(record);
                return TakePart();
            case RmgrId.Heap2:
                if ((record.Info & HeapOpcodes.OpMask) == HeapOpcodes.Heap2MultiInsert) OnMultiInsert(record);
                return TakePart();
            case RmgrId.Transaction:
                return OnTransaction(record);
            case RmgrId.Standby:
                if ((record.Info & 0xF0) == StandbyRunningXacts.Opcode) OnRunningXacts(StandbyRunningXacts.Parse(record));
                return null;
            case RmgrId.RelMap:
                _catalog.OnRelMap(record);
                return null;
            case RmgrId.Xlog:
                if ((record.Info & 0xF0) == XlogFullPageImage && record.Xid != 0) _catalog.OnWholePages(record);
                return null;
            default:
                return null;
        }
    }

    // ---- before the start: who is already running ----

    private void LearnBeforeStart(WalRecord record)
    {
        if (record.Xid != 0) _runningAtStart.Add(record.Xid);
        if (record.TopLevelXid != 0) _runningAtStart.Add(record.TopLevelXid);
        if (record.Rmgr == RmgrId.Standby && (record.Info & 0xF0) == StandbyRunningXacts.Opcode)
        {
            var running = StandbyRunningXacts.Parse(record);
            for (var i = 0; i < running.Xids.Count; i++) _runningAtStart.Add(running.Xids[i]);
            for (var i = 0; i < running.Subxids.Count; i++) _runningAtStart.Add(running.Subxids[i]);
        }
        else if (record.Rmgr == RmgrId.Transaction && (record.Info & XactOpcodes.OpMask) is XactOpcodes.Commit or XactOpcodes.Abort
                     or XactOpcodes.CommitPrepared or XactOpcodes.AbortPrepared)
        {
            // Finished before the start: whatever it did is (or is not) in the start's copy already.
            var finish = XactFinish.Parse(record);
            _runningAtStart.Remove(finish.TransactionId(record));
            for (var i = 0; i < finish.Subxacts.Count; i++) _runningAtStart.Remove(finish.Subxacts[i]);
        }
    }

    // ---- transactions ----

    private void MapSubxact(uint subxid, uint top, Lsn lsn)
    {
        if (_topOf.TryAdd(subxid, top))
        {
            var transaction = Transaction(top, lsn);
            transaction.AddSubxact(subxid);
            if (_runningAtStart.Contains(subxid)) transaction.StartedBeforeDecoding = true;
        }
    }

    private uint TopOf(uint xid) => _topOf.TryGetValue(xid, out var top) ? top : xid;

    private OpenTransaction Transaction(uint xid, Lsn lsn)
    {
        var top = TopOf(xid);
        if (!_open.TryGetValue(top, out var transaction))
        {
            transaction = new OpenTransaction(top, lsn, _spill.NewLog(top),
                _runningAtStart.Contains(top) || _runningAtStart.Contains(xid));
            _open[top] = transaction;
        }

        return transaction;
    }

    private CommittedTransaction? OnTransaction(WalRecord record)
    {
        var op = (byte)(record.Info & XactOpcodes.OpMask);
        switch (op)
        {
            case XactOpcodes.Assignment:
                var assignment = XactAssignment.Parse(record);
                for (var i = 0; i < assignment.Subxacts.Count; i++) MapSubxact(assignment.Subxacts[i], assignment.TopXid, record.Lsn);
                return null;
            case XactOpcodes.Prepare:
                var prepare = XactPrepare.Parse(record);
                if (_open.TryGetValue(prepare.Xid, out var prepared))
                {
                    prepared.IsPrepared = true;
                    prepared.Gid = Encoding.UTF8.GetString(prepare.Gid);
                }

                return null;
            case XactOpcodes.Commit:
            case XactOpcodes.CommitPrepared:
                return Commit(record, XactFinish.Parse(record));
            case XactOpcodes.Abort:
            case XactOpcodes.AbortPrepared:
                Abort(record, XactFinish.Parse(record));
                return null;
            default:
                return null;
        }
    }

    private CommittedTransaction? Commit(WalRecord record, in XactFinish finish)
    {
        var xid = finish.TransactionId(record);
        SawTime(finish.XactTime);
        var committed = _committed;
        committed.Clear();
        committed.Add(xid);
        var startedBefore = _runningAtStart.Contains(xid);
        for (var i = 0; i < finish.Subxacts.Count; i++)
        {
            var subxid = finish.Subxacts[i];
            committed.Add(subxid);
            startedBefore |= _runningAtStart.Contains(subxid);
            // A subtransaction buffered on its own: its link to the top was in WAL before the start.
            if (_open.Remove(subxid, out var orphan))
            {
                startedBefore = true;
                Discard(orphan);
            }
        }

        _open.Remove(xid, out var transaction);
        Finished(xid, finish);
        transaction = _catalog.Commit(xid, record, finish, committed, transaction);
        _catalog.Ended(xid);
        var gid = finish.Gid.IsEmpty ? transaction?.Gid : Encoding.UTF8.GetString(finish.Gid);
        var commitTime = PostgresTimestamp.ToDateTimeOffset(finish.XactTime);
        if (transaction is null)
        {
            if (!startedBefore || record.Lsn < _options.EmitCommitsFrom) return null;
            return new CommittedTransaction(xid, Lsn.Invalid, record.Lsn, record.EndLsn, commitTime, gid, true, 0, 0, []);
        }

        Forget(transaction);
        startedBefore |= transaction.StartedBeforeDecoding;
        var log = transaction.Log;
        if (transaction.PartsHandedOut > 0 && (transaction.End!.Lsn != record.Lsn || log.HasEventEntries))
        {
            throw record.Error(WalErrorKind.BadRecordData, $"transaction {xid} had rows handed out ahead of its commit, found at {transaction.End.Lsn} " +
                "with no definition change, but it commits here" + (log.HasEventEntries ? " after changing a definition" : ""));
        }

        _spill.Release(log);
        _emitted = log;
        // Rows handed out ahead of the commit: the commit itself is emitted, with the rest (maybe none).
        if (log.EntryCount == 0 && !startedBefore && transaction.PartsHandedOut == 0) return null;
        if (record.Lsn < _options.EmitCommitsFrom) return null;
        var changes = startedBefore ? [] : _materializer.Materialize(log, xid, committed, record.Lsn);
        return new CommittedTransaction(xid, transaction.FirstLsn, record.Lsn, record.EndLsn, commitTime, gid, startedBefore,
            log.EntryCount, log.SpilledBytes, changes);
    }

    /// <summary>A transaction (or subtransaction) ended: it no longer holds the restart point back.</summary>
    private void Finished(uint xid, in XactFinish finish)
    {
        _firstRecord.Remove(xid);
        _openBy.Remove(xid);
        for (var i = 0; i < finish.Subxacts.Count; i++) _firstRecord.Remove(finish.Subxacts[i]);
    }

    /// <summary>
    /// A commit or abort stamped with production's clock: the newest time known, and the time by which every
    /// transaction first seen since the previous stamp had begun (its own end, when it comes, is this at the earliest).
    /// </summary>
    private void SawTime(long xactTime)
    {
        var time = PostgresTimestamp.ToDateTimeOffset(xactTime);
        if (NewestWalTime is null || time > NewestWalTime) NewestWalTime = time;
        foreach (var xid in _awaitingTime)
            if (_firstRecord.ContainsKey(xid)) _openBy.TryAdd(xid, time);
        _awaitingTime.Clear();
    }

    private void Abort(WalRecord record, in XactFinish finish)
    {
        var xid = finish.TransactionId(record);
        SawTime(finish.XactTime);
        Finished(xid, finish);
        if (_topOf.TryGetValue(xid, out var top) && top != xid)
        {
            // ROLLBACK TO SAVEPOINT: the subtransaction's entries stay in the log and are skipped at
            // commit, because the commit record does not list it.
            return;
        }

        _catalog.Ended(xid);
        if (_open.Remove(xid, out var transaction))
        {
            if (transaction.PartsHandedOut > 0)
                throw record.Error(WalErrorKind.BadRecordData, $"transaction {xid} had rows handed out ahead of its commit, found at {transaction.End!.Lsn}, but it aborts here");
            Forget(transaction);
            Discard(transaction);
        }

        for (var i = 0; i < finish.Subxacts.Count; i++)
            if (_open.Remove(finish.Subxacts[i], out var orphan)) Discard(orphan);
    }

    /// <summary>Drops the subtransaction mapping of a finished transaction.</summary>
    private void Forget(OpenTransaction transaction)
    {
        foreach (var subxid in transaction.Subxacts) _topOf.Remove(subxid);
    }

    private void Discard(OpenTransaction transaction)
    {
        _catalog.Discard(transaction);
        _spill.Release(transaction.Log);
        transaction.Log.Dispose();
    }

    private void OnRunningXacts(in StandbyRunningXacts running)
    {
        // Anything older than the oldest running xid that has not ended in WAL died with a crash.
        List<uint>? gone = null;
        foreach (var xid in _firstRecord.Keys)
        {
            if (TransactionIds.Precedes(xid, running.OldestRunningXid) && !(_open.TryGetValue(xid, out var open) && open.IsPrepared)) (gone ??= []).Add(xid);
        }

        if (gone is not null)
        {
            foreach (var xid in gone)
            {
                _firstRecord.Remove(xid);
                _openBy.Remove(xid);
            }
        }

        List<uint>? dead = null;
        foreach (var (xid, transaction) in _open)
        {
            if (!transaction.IsPrepared && TransactionIds.Precedes(xid, running.OldestRunningXid)) (dead ??= []).Add(xid);
        }

        if (dead is null) return;
        foreach (var xid in dead)
        {
            _open.Remove(xid, out var transaction);
            if (transaction!.PartsHandedOut > 0)
                throw new InvalidOperationException($"transaction {xid} had rows handed out ahead of its commit, found at {transaction.End!.Lsn}, but a RUNNING_XACTS record says it ended without one");
            Forget(transaction!);
            Discard(transaction!);
        }
    }

    /// <summary>XLOG_FPI: pages logged whole, as a rewrite (VACUUM FULL, CLUSTER) writes its new file.</summary>
    private const byte XlogFullPageImage = 0xB0;

    // ---- heap records ----

    private void OnHeap(WalRecord record)
    {
        var op = (byte)(record.Info & HeapOpcodes.OpMask);
        if (op == HeapOpcodes.Truncate)
        {
            OnTruncate(record);
            return;
        }

        if (op is HeapOpcodes.Lock or HeapOpcodes.Inplace || record.Xid == 0) return;
        var block0 = record.IndexOfBlockId(0);
        if (block0 < 0) return;
        var relation = record.Block(block0).Relation;
        if (_catalog.IsCatalog(relation))
        {
            _catalog.OnHeap(record, op, relation);
            return;
        }

        if (!_catalog.TryTarget(relation, out var target))
        {
            // A synced table's rows as an ALTER rewrites them into a new heap, kept in case the rewrite gave them new values.
            if (op == HeapOpcodes.Insert && _catalog.TryRewriteTarget(relation, record.Xid, out var rewrite))
            {
                var rewritten = HeapInsert.Parse(record);
                if (!rewritten.ContainsNewTuple) return;
                Span<byte> toastRelation = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(toastRelation, rewrite.RelationOid);
                if (rewrite.IsToast) AppendTo(Transaction(record.Xid, record.Lsn), record, BufferedEntryKind.RewriteToastChunk, rewrite.Table, toastRelation, record.BlockData(block0), default);
                else Append(record, BufferedEntryKind.RewriteInsert, rewrite.Table, record.BlockData(block0));
            }

            return;
        }

        switch (op)
        {
            case HeapOpcodes.Insert:
                var insert = HeapInsert.Parse(record);
                if (!insert.ContainsNewTuple) return;
                var kind = target.IsToast ? BufferedEntryKind.ToastChunk
                    : insert.IsSpeculative ? BufferedEntryKind.SpeculativeInsert : BufferedEntryKind.Insert;
                Append(record, kind, target.Table, record.BlockData(block0));
                return;
            case HeapOpcodes.Update:
            case HeapOpcodes.HotUpdate:
                if (target.IsToast) return;
                var update = HeapUpdate.Parse(record);
                if (!update.ContainsNewTuple || !record.Block(block0).HasData)
                    throw record.Error(WalErrorKind.BadRecordData, $"update of {_tables[target.Table].QualifiedName} carries no new tuple; is the table logically logged?");
                if (update.PrefixLength != 0 || update.SuffixLength != 0)
                    throw record.Error(WalErrorKind.BadRecordData, $"update of {_tables[target.Table].QualifiedName} is prefix/suffix compressed, which a logically logged table never is");
                var oldUpdate = update.ContainsOldKey || update.ContainsOldTuple ? record.MainData[14..] : default;
                Append(record, BufferedEntryKind.Update, target.Table, oldUpdate, record.BlockData(block0));
                return;
            case HeapOpcodes.Delete:
                if (target.IsToast) return;
                var delete = HeapDelete.Parse(record);
                if (delete.IsSuperDelete)
                {
                    Append(record, BufferedEntryKind.SpeculativeAbort, target.Table, default);
                    return;
                }

                var oldDelete = delete.ContainsOldKey || delete.ContainsOldTuple ? record.MainData[8..] : default;
                Append(record, BufferedEntryKind.Delete, target.Table, oldDelete);
                return;
            case HeapOpcodes.Confirm:
                if (!target.IsToast) Append(record, BufferedEntryKind.SpeculativeConfirm, target.Table, default);
                return;
        }
    }

    private void OnMultiInsert(WalRecord record)
    {
        if (record.Xid == 0) return;
        var block0 = record.IndexOfBlockId(0);
        if (block0 < 0) return;
        var relation = record.Block(block0).Relation;
        var multi = Heap2MultiInsert.Parse(record);
        if (_catalog.IsCatalog(relation))
        {
            _catalog.OnMultiInsert(record, block0, multi);
            return;
        }

        if (!_catalog.TryTarget(relation, out var target) || !multi.ContainsNewTuples) return;
        var kind = target.IsToast ? BufferedEntryKind.ToastChunk : BufferedEntryKind.Insert;
        Span<byte> walHeader = stackalloc byte[HeapTupleImage.HeaderSize];
        var transaction = Transaction(record.Xid, record.Lsn);
        // COPY writes the TOAST chunks of a whole batch before its MULTI_INSERT records: the chunks
        // stay until the batch's last tuple (decode.c keeps them likewise).
        var lastInBatch = (multi.Flags & HeapOpcodes.InsertLastInMulti) != 0;
        var left = multi.TupleCount;
        foreach (var tuple in multi)
        {
            tuple.WriteWalHeader(walHeader);
            var flags = --left == 0 && lastInBatch ? TransactionLog.ClearsToast : (byte)0;
            AppendTo(transaction, record, kind, target.Table, walHeader, tuple.Body, default, flags);
        }
    }

    private void OnTruncate(WalRecord record)
    {
        if (record.Xid == 0) return;
        var truncate = HeapTruncate.Parse(record);
        if (truncate.DbId != _catalog.DatabaseOid) return;
        Span<byte> payload = stackalloc byte[1 + 2 * truncate.RelationCount];
        payload[0] = truncate.Flags;
        var count = 0;
        for (var i = 0; i < truncate.RelationCount; i++)
        {
            if (!_catalog.TryTableOf(truncate.RelationId(i), out var table)) continue;
            BinaryPrimitives.WriteUInt16LittleEndian(payload[(1 + 2 * count)..], (ushort)table);
            count++;
        }

        if (count > 0) Append(record, BufferedEntryKind.Truncate, 0, payload[..(1 + 2 * count)]);
    }

    // ---- buffering ----

    private void Append(WalRecord record, BufferedEntryKind kind, int table, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second = default) =>
        AppendTo(Transaction(record.Xid, record.Lsn), record, kind, table, default, first, second);

    private void AppendTo(OpenTransaction transaction, WalRecord record, BufferedEntryKind kind, int table,
        ReadOnlySpan<byte> firstHead, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, byte flags = TransactionLog.ClearsToast)
    {
        _spill.Append(transaction.Log, kind, flags, (ushort)table, record.Xid, record.Lsn, firstHead, first, second);
        if (_options.EndAhead is not null) ConsiderPart(transaction, record);
    }

    // ---- rows ahead of the commit ----

    /// <summary>
    /// Hands out the transaction's rows buffered so far as a part (<see cref="CommittedTransaction.AheadOfCommit"/>)
    /// when they reach <see cref="ReassemblerOptions.AheadPartBytes"/>, its commit is found ahead in the WAL at hand and
    /// nothing in it needs its commit first: it did not begin before decoding, is not prepared, changed no definition.
    /// </summary>
    private void ConsiderPart(OpenTransaction transaction, WalRecord record)
    {
        var log = transaction.Log;
        if (log.MemoryBytes + log.SpilledBytes < _options.AheadPartBytes) return;
        // A part ends after a whole row: not inside a multi-insert's batch or before the row its TOAST chunks belong
        // to (such entries do not clear the chunks), not between a speculative insert and its confirmation.
        if ((log.LastFlags & TransactionLog.ClearsToast) == 0 || log.LastKind is not (BufferedEntryKind.Insert or BufferedEntryKind.Update
                or BufferedEntryKind.Delete or BufferedEntryKind.SpeculativeConfirm or BufferedEntryKind.SpeculativeAbort))
            return;
        if (transaction.StartedBeforeDecoding || transaction.IsPrepared || log.HasEventEntries || !transaction.CatalogMoves.IsEmpty
            || !transaction.RewrittenTuples.IsEmpty || transaction.Rewrite is not null || !transaction.NewFiles.IsEmpty)
            return;
        if (transaction.End is null)
        {
            if (log.AppendedBytes < transaction.SeekEndAfter) return;
            transaction.End = _options.EndAhead!(transaction.Xid, record.EndLsn);
            if (transaction.End is null)
            {
                // Not at hand yet (the WAL that ends it is still to come, or a look in the background has not ended):
                // asked again once it has grown by AheadAskBytes.
                transaction.SeekEndAfter = log.AppendedBytes + (_options.AheadAskBytes > 0 ? _options.AheadAskBytes : _options.AheadPartBytes);
                return;
            }
        }

        var end = transaction.End;
        if (!end.AppliesAhead || end.Lsn < _options.EmitCommitsFrom) return;
        var committed = _committed;
        committed.Clear();
        committed.Add(transaction.Xid);
        foreach (var subxid in end.Subxacts) committed.Add(subxid);
        transaction.PartsHandedOut++;
        _partRead = transaction;
        var changes = _materializer.Materialize(log, transaction.Xid, committed, end.Lsn);
        _part = new CommittedTransaction(transaction.Xid, transaction.FirstLsn, end.Lsn, end.EndLsn, end.Time, null, false, log.EntryCount, log.SpilledBytes, changes)
        {
            AheadOfCommit = true,
        };
    }

    private CommittedTransaction? TakePart()
    {
        var part = _part;
        _part = null;
        return part;
    }

    public void Dispose()
    {
        _emitted?.Dispose();
        _emitted = null;
        foreach (var transaction in _open.Values) transaction.Log.Dispose();
        _open.Clear();
        _spill.ReleaseAll();
    }
}
