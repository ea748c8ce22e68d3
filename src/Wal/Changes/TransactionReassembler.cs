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
/// in memory; past that the largest one is spilled to its file.</para>
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
    private readonly CatalogSnapshot _snapshot;
    private readonly IReadOnlyList<TableDescriptor> _tables;
    private readonly ReassemblerOptions _options;
    private Lsn _lastEnd;
    private readonly Lsn _start;
    private readonly uint _databaseOid;
    private readonly Dictionary<uint, int> _tableByOid = [];
    /// <summary>relfilenode → (table, is its TOAST relation), for the database of the synced tables.</summary>
    private readonly Dictionary<uint, (int Table, bool IsToast)> _files = [];
    private readonly Dictionary<uint, OpenTransaction> _open = [];
    private readonly Dictionary<uint, uint> _topOf = [];
    private readonly HashSet<uint> _runningAtStart;
    private readonly CatalogRowTracker? _catalog;
    private readonly CompositeTypeWatch? _composites;
    private readonly ChangeMaterializer _materializer;
    private TransactionLog? _emitted;
    private long _memory;

    public TransactionReassembler(CatalogSnapshot catalog, CatalogLocations? locations, Lsn start, ReassemblerOptions? options = null)
    {
        _snapshot = catalog;
        _tables = catalog.Tables;
        if (_tables.Count > ushort.MaxValue) throw new ArgumentException("too many tables", nameof(catalog));
        _options = options ?? new ReassemblerOptions();
        _start = start;
        _runningAtStart = [.. _options.RunningAtStart];
        _databaseOid = _tables.Count > 0 ? _tables[0].DatabaseOid : 0;
        for (var i = 0; i < _tables.Count; i++)
        {
            var table = _tables[i];
            if (table.DatabaseOid != _databaseOid)
                throw new ArgumentException($"{table.QualifiedName} is in database {table.DatabaseOid}, the others in {_databaseOid}: one decoder per database", nameof(catalog));
            _tableByOid[table.RelationOid] = i;
            // A partitioned table has no file (filenode 0): its partitions' files carry its rows.
            if (table.HasStorage) _files[table.RelFileNode] = (i, false);
            if (table.ToastRelFileNode != 0) _files[table.ToastRelFileNode] = (i, true);
        }

        if (locations is not null)
        {
            _catalog = new CatalogRowTracker(_tables, locations);
            _composites = CompositeTypeWatch.Create(catalog, locations);
        }
        _materializer = new ChangeMaterializer(_tables, catalog.CreateValueConverter());
    }

    internal CatalogRowTracker? CatalogTracker => _catalog;

    /// <summary>Open transactions now.</summary>
    public int OpenTransactionCount => _open.Count;

    /// <summary>Bytes of buffered changes held in memory now.</summary>
    public long MemoryBytes => _memory;

    /// <summary>The most memory held at once so far.</summary>
    public long PeakMemoryBytes { get; private set; }

    /// <summary>Transactions written to spill files so far (counted once each).</summary>
    public int SpilledTransactions { get; private set; }

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
    /// Tables whose schema changed keep their old descriptor: they need a new snapshot anyway.
    /// </summary>
    public (CatalogSnapshot Catalog, CatalogLocations? Locations) CurrentCatalog()
    {
        if (_catalog is null) return (_snapshot with { CapturedAt = _lastEnd }, null);
        var (locations, files) = _catalog.Current();
        var tables = _tables.Select((table, i) => table with
        {
            RelFileNode = files.TryGetValue((i, false), out var heap) ? heap : table.RelFileNode,
            ToastRelFileNode = files.TryGetValue((i, true), out var toast) ? toast : table.ToastRelFileNode,
        }).ToList();
        // A synced table's own rows, also watched when its row type is used, are the tracker's to save (it follows their moves).
        if (_composites is not null)
            locations = locations with { Rows = [.. locations.Rows, .. _composites.Rows.Where(r => !_tableByOid.ContainsKey(r.RelationOid))] };
        return (_snapshot with { CapturedAt = _lastEnd, Tables = tables }, locations);
    }

    /// <summary>True once the table's schema-change event was emitted: its rows are no longer decoded.</summary>
    public bool IsSuspended(TableDescriptor table) => _tableByOid.TryGetValue(table.RelationOid, out var i) && _materializer.IsSuspended(i);

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
                return null;
            case RmgrId.Heap2:
                if ((record.Info & HeapOpcodes.OpMask) == HeapOpcodes.Heap2MultiInsert) OnMultiInsert(record);
                return null;
            case RmgrId.Transaction:
                return OnTransaction(record);
            case RmgrId.Standby:
                if ((record.Info & 0xF0) == StandbyRunningXacts.Opcode) OnRunningXacts(StandbyRunningXacts.Parse(record));
                return null;
            case RmgrId.RelMap:
                OnRelMap(record);
                return null;
            case RmgrId.Xlog:
                if ((record.Info & 0xF0) == XlogFullPageImage && record.Xid != 0) OnWholePages(record);
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
            transaction.Subxacts.Add(subxid);
            if (_runningAtStart.Contains(subxid)) transaction.StartedBeforeDecoding = true;
        }
    }

    private uint TopOf(uint xid) => _topOf.TryGetValue(xid, out var top) ? top : xid;

    // Its own method: a lambda over the record in Process would allocate a closure for every record decoded.
    private void OnWholePages(WalRecord record) => _catalog?.OnWholePages(record, () => Transaction(record.Xid, record.Lsn));

    private OpenTransaction Transaction(uint xid, Lsn lsn)
    {
        var top = TopOf(xid);
        if (!_open.TryGetValue(top, out var transaction))
        {
            transaction = new OpenTransaction(top, lsn, new TransactionLog(top, _options.Spill),
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
        var committed = new HashSet<uint> { xid };
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
        // Safety net: a file of a synced relation that the commit drops while still mapped was
        // replaced (or dropped) without a catalog change the tracker followed.
        for (var i = 0; i < finish.RelFileLocators.Count; i++)
        {
            var dropped = finish.RelFileLocators[i];
            if (dropped.DbOid != _databaseOid || !_files.TryGetValue(dropped.RelNumber, out var lost)) continue;
            if (transaction?.CatalogMoves.Exists(m => m.Attribute is null && m.Row.Table == lost.Table && m.Row.IsToast == lost.IsToast && committed.Contains(m.Xid)) == true) continue;
            _files.Remove(dropped.RelNumber);
            transaction ??= new OpenTransaction(xid, record.Lsn, new TransactionLog(xid, _options.Spill), false);
            var what = lost.IsToast ? "the file of its TOAST relation was replaced or dropped" : "its file was replaced or dropped";
            var before = transaction.Log.MemoryBytes;
            transaction.Log.Append(BufferedEntryKind.SchemaChanged, (ushort)lost.Table, xid, record.Lsn,
                Encoding.UTF8.GetBytes(what + " without a catalog change the decoder could follow"));
            _memory += transaction.Log.MemoryBytes - before;
        }

        var gid = finish.Gid.IsEmpty ? transaction?.Gid : Encoding.UTF8.GetString(finish.Gid);
        var commitTime = PostgresEpoch.AddTicks(finish.XactTime * 10);
        if (transaction is null)
        {
            if (!startedBefore || record.Lsn < _options.EmitCommitsFrom) return null;
            return new CommittedTransaction(xid, Lsn.Invalid, record.Lsn, record.EndLsn, commitTime, gid, true, 0, 0, []);
        }

        Forget(transaction);
        foreach (var (subxid, file) in transaction.NewFiles)
            if (!committed.Contains(subxid)) _files.Remove(file);
        _catalog?.Commit(transaction, committed, OnRelFileNodeReplaced, (table, why) =>
        {
            var held = transaction.Log.MemoryBytes;
            transaction.Log.Append(BufferedEntryKind.SchemaChanged, (ushort)table, xid, record.Lsn, Encoding.UTF8.GetBytes(why));
            _memory += transaction.Log.MemoryBytes - held;
        });
        startedBefore |= transaction.StartedBeforeDecoding;
        var log = transaction.Log;
        _memory -= log.MemoryBytes;
        _emitted = log;
        if (log.EntryCount == 0 && !startedBefore) return null;
        if (record.Lsn < _options.EmitCommitsFrom) return null;
        var changes = startedBefore ? [] : _materializer.Materialize(log, xid, committed, record.Lsn);
        return new CommittedTransaction(xid, transaction.FirstLsn, record.Lsn, record.EndLsn, commitTime, gid, startedBefore,
            log.EntryCount, log.SpilledBytes, changes);
    }

    private static readonly DateTimeOffset PostgresEpoch = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private void OnRelFileNodeReplaced(TrackedClassRow before, uint now) => _files.Remove(before.RelFileNode);

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
        var time = PostgresEpoch.AddTicks(xactTime * 10);
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

        if (_open.Remove(xid, out var transaction))
        {
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
        _catalog?.Forget(transaction);
        foreach (var (_, file) in transaction.NewFiles) _files.Remove(file);
        _memory -= transaction.Log.MemoryBytes;
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
            Forget(transaction!);
            Discard(transaction!);
        }
    }

    /// <summary>XLOG_FPI: pages logged whole, as a rewrite (VACUUM FULL, CLUSTER) writes its new file.</summary>
    private const byte XlogFullPageImage = 0xB0;

    private void OnRelMap(WalRecord record)
    {
        if (_catalog is null || record.Xid == 0) return;
        var transaction = Transaction(record.Xid, record.Lsn);
        var lost = new List<(int Table, string Why)>();
        if (!_catalog.OnRelMapUpdate(RelMapUpdate.Parse(record), transaction, lost)) return;
        // pg_class or pg_attribute rewritten: the tables whose rows were found again go on; the others stop, each with why.
        foreach (var (table, why) in lost) AppendSchemaChanged(transaction, table, record, why);
    }

    // ---- heap records ----

    private bool TryTarget(in RelFileLocator relation, out (int Table, bool IsToast) target)
    {
        target = default;
        return relation.DbOid == _databaseOid && _files.TryGetValue(relation.RelNumber, out target);
    }

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
        if (_catalog is not null && _catalog.IsCatalog(relation))
        {
            OnCatalogHeap(record, op, relation);
            return;
        }

        if (!TryTarget(relation, out var target)) return;
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
        if (_catalog is not null && _catalog.IsCatalog(relation))
        {
            if (relation.RelNumber != _catalog.PgAttributeRelFileNode) return;
            if (record.Block(block0).HasData)
            {
                Span<byte> header = stackalloc byte[HeapTupleImage.HeaderSize];
                foreach (var tuple in multi)
                {
                    WriteWalHeader(header, tuple);
                    byte[] walTuple = [.. header, .. tuple.Body];
                    var table = _catalog.OnAttributeInsert(walTuple);
                    if (table is { } hit) AppendSchemaChanged(Transaction(record.Xid, record.Lsn), hit, record, "a column was added");
                    else if (_composites?.OnAttributeInsert(walTuple) is { } grown) AppendCompositeAltered(record, grown);
                }
            }
            else if (record.Block(block0).HasImage)
            {
                for (var i = 0; i < multi.TupleCount; i++)
                {
                    if (_catalog.OnAttributeInsertImage(record, block0, multi.Offnum(i)) is { } hit)
                        AppendSchemaChanged(Transaction(record.Xid, record.Lsn), hit, record, "a column was added");
                    else if (_composites?.OfRelation(_catalog.AttributeRelationInImage(record, block0, multi.Offnum(i))) is { } grown)
                        AppendCompositeAltered(record, grown);
                }
            }

            return;
        }

        if (!TryTarget(relation, out var target) || !multi.ContainsNewTuples) return;
        var kind = target.IsToast ? BufferedEntryKind.ToastChunk : BufferedEntryKind.Insert;
        Span<byte> walHeader = stackalloc byte[HeapTupleImage.HeaderSize];
        var transaction = Transaction(record.Xid, record.Lsn);
        // COPY writes the TOAST chunks of a whole batch before its MULTI_INSERT records: the chunks
        // stay until the batch's last tuple (decode.c keeps them likewise).
        var lastInBatch = (multi.Flags & HeapOpcodes.InsertLastInMulti) != 0;
        var left = multi.TupleCount;
        foreach (var tuple in multi)
        {
            WriteWalHeader(walHeader, tuple);
            var flags = --left == 0 && lastInBatch ? TransactionLog.ClearsToast : (byte)0;
            AppendTo(transaction, record, kind, target.Table, walHeader, tuple.Body, default, flags);
        }
    }

    private static void WriteWalHeader(Span<byte> header, in HeapTupleImage tuple)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(header, tuple.Infomask2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], tuple.Infomask);
        header[4] = tuple.Hoff;
    }

    private void OnTruncate(WalRecord record)
    {
        if (record.Xid == 0) return;
        var truncate = HeapTruncate.Parse(record);
        if (truncate.DbId != _databaseOid) return;
        Span<byte> payload = stackalloc byte[1 + 2 * truncate.RelationCount];
        payload[0] = truncate.Flags;
        var count = 0;
        for (var i = 0; i < truncate.RelationCount; i++)
        {
            if (!_tableByOid.TryGetValue(truncate.RelationId(i), out var table)) continue;
            BinaryPrimitives.WriteUInt16LittleEndian(payload[(1 + 2 * count)..], (ushort)table);
            count++;
        }

        if (count > 0) Append(record, BufferedEntryKind.Truncate, 0, payload[..(1 + 2 * count)]);
    }

    private void OnCatalogHeap(WalRecord record, byte op, RelFileLocator relation)
    {
        var catalog = _catalog!;
        if (relation.RelNumber == catalog.PgInheritsRelFileNode)
        {
            // A partition attached to (or created in) a synced partitioned table: its rows would land in a file the
            // decoder does not know. Detaching or dropping one changes the partition's own pg_class row, which is tracked.
            if (op != HeapOpcodes.Insert) return;
            var inserted = HeapInsert.Parse(record);
            var block = record.IndexOfBlockId(0);
            var data = record.Block(block).HasData ? record.BlockData(block) : default;
            if (!record.Block(block).HasData && !record.Block(block).HasImage) return;
            if (catalog.OnInheritsInsert(data, record, block, inserted.Offnum) is { } parent)
                AppendSchemaChanged(Transaction(record.Xid, record.Lsn), parent, record, "a partition was attached");
            return;
        }

        if (relation.RelNumber == catalog.PgIndexRelFileNode)
        {
            // A primary key or replica identity index added to a synced table: the old key its updates and deletes
            // carry changes. (Other indexes, CREATE INDEX among them, change nothing that is synced.)
            if (op != HeapOpcodes.Insert) return;
            var inserted = HeapInsert.Parse(record);
            var block = record.IndexOfBlockId(0);
            if (!record.Block(block).HasData && !record.Block(block).HasImage) return;
            var data = record.Block(block).HasData ? record.BlockData(block) : default;
            if (catalog.OnIndexInsert(data, record, block, inserted.Offnum) is { } keyed)
                AppendSchemaChanged(Transaction(record.Xid, record.Lsn), keyed, record, "a primary key or replica identity index was added");
            return;
        }

        var isClass = relation.RelNumber == catalog.PgClassRelFileNode;
        switch (op)
        {
            case HeapOpcodes.Update:
            case HeapOpcodes.HotUpdate:
                var update = HeapUpdate.Parse(record);
                if (isClass)
                {
                    OpenTransaction? transaction = null;
                    var found = catalog.OnClassUpdate(record, update, TopOf(record.Xid), () => transaction = Transaction(record.Xid, record.Lsn));
                    if (found is not { } change || transaction is null) return;
                    var row = change.Row;
                    if (!change.RelFileNodeKnown)
                    {
                        if (!row.IsToast) AppendSchemaChanged(transaction, row.Table, record, "its pg_class row changed and the new relfilenode cannot be read from WAL");
                    }
                    else if (change.NewRelFileNode != row.RelFileNode)
                    {
                        // Visible to this transaction's later records at once; others cannot write the file before it commits.
                        _files[change.NewRelFileNode] = (row.Table, row.IsToast);
                        transaction.NewFiles.Add((record.Xid, change.NewRelFileNode));
                        if (!row.IsToast)
                        {
                            Span<byte> number = stackalloc byte[4];
                            BinaryPrimitives.WriteUInt32LittleEndian(number, change.NewRelFileNode);
                            AppendTo(transaction, record, BufferedEntryKind.RelfilenodeChanged, row.Table, default, number, default);
                        }
                    }

                    if (change.Changed is null)
                    {
                        // The old definition is not known (locations saved before it was kept): as before, a change of the
                        // row that does not come with a new file is taken for a definition change, decided at commit.
                        if (!row.IsToast && change.RelFileNodeKnown && change.NewRelFileNode == row.RelFileNode)
                            AppendTo(transaction, record, BufferedEntryKind.RelationRowTouched, row.Table, default, default, default);
                    }
                    else if (change.Changed.Count > 0)
                    {
                        var whose = row.IsToast ? "the pg_class row of its TOAST relation" : "its pg_class row";
                        AppendSchemaChanged(transaction, row.Table, record, $"{whose} changed what is synced ({string.Join(", ", change.Changed)})");
                    }
                }
                else
                {
                    if (_composites?.OnAttributeUpdate(update) is { } altered)
                    {
                        AppendCompositeAltered(record, altered);
                        return;
                    }

                    OpenTransaction? transaction = null;
                    var found = catalog.OnAttributeUpdate(record, update, TopOf(record.Xid), () => transaction = Transaction(record.Xid, record.Lsn));
                    if (found is not { } column || transaction is null || column.Changed is { Count: 0 }) return;
                    AppendSchemaChanged(transaction, column.Row.Table, record, column.Changed is null
                        ? $"column {column.Row.AttNum} changed"
                        : $"column {column.Row.AttNum} changed ({string.Join(", ", column.Changed)})");
                }

                return;
            case HeapOpcodes.Delete:
                var delete = HeapDelete.Parse(record);
                if (isClass)
                {
                    if (catalog.OnClassDelete(delete, TopOf(record.Xid)) is { IsToast: false } dropped)
                        AppendSchemaChanged(Transaction(record.Xid, record.Lsn), dropped.Table, record, "dropped");
                }
                // pg_attribute rows are deleted only with their table (DROP TABLE deletes them before the
                // pg_class row), so the pg_class delete is the one to report.
                return;
            case HeapOpcodes.Insert:
                if (isClass) return;
                var insert = HeapInsert.Parse(record);
                var block0 = record.IndexOfBlockId(0);
                int? added = record.Block(block0).HasData ? catalog.OnAttributeInsert(record.BlockData(block0))
                    : record.Block(block0).HasImage ? catalog.OnAttributeInsertImage(record, block0, insert.Offnum) : null;
                if (added is { } table) AppendSchemaChanged(Transaction(record.Xid, record.Lsn), table, record, "a column was added");
                else if (_composites is not null
                         && (record.Block(block0).HasData ? _composites.OnAttributeInsert(record.BlockData(block0))
                             : record.Block(block0).HasImage ? _composites.OfRelation(catalog.AttributeRelationInImage(record, block0, insert.Offnum)) : null) is { } grown)
                    AppendCompositeAltered(record, grown);
                return;
        }
    }

    /// <summary>Every synced table that uses the composite type stops: its values are decoded by the attributes as they were.</summary>
    private void AppendCompositeAltered(WalRecord record, (string Type, int[] Tables) altered)
    {
        var transaction = Transaction(record.Xid, record.Lsn);
        foreach (var table in altered.Tables)
            AppendSchemaChanged(transaction, table, record, $"the composite type {altered.Type} it uses was altered (an attribute added, dropped or changed)");
    }

    private void AppendSchemaChanged(OpenTransaction transaction, int table, WalRecord record, string what) =>
        AppendTo(transaction, record, BufferedEntryKind.SchemaChanged, table, default, Encoding.UTF8.GetBytes(what), default);

    // ---- buffering ----

    private void Append(WalRecord record, BufferedEntryKind kind, int table, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second = default) =>
        AppendTo(Transaction(record.Xid, record.Lsn), record, kind, table, default, first, second);

    private void AppendTo(OpenTransaction transaction, WalRecord record, BufferedEntryKind kind, int table,
        ReadOnlySpan<byte> firstHead, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, byte flags = TransactionLog.ClearsToast)
    {
        var log = transaction.Log;
        var before = log.MemoryBytes;
        log.Append(kind, flags, (ushort)table, record.Xid, record.Lsn, firstHead, first, second);
        _memory += log.MemoryBytes - before;
        if (_memory > PeakMemoryBytes) PeakMemoryBytes = _memory;
        if (_memory > _options.MemoryLimitBytes && _options.Spill is not null) SpillLargest();
    }

    private void SpillLargest()
    {
        while (_memory > _options.MemoryLimitBytes)
        {
            OpenTransaction? largest = null;
            foreach (var transaction in _open.Values)
                if (largest is null || transaction.Log.MemoryBytes > largest.Log.MemoryBytes) largest = transaction;
            if (largest is null || largest.Log.MemoryBytes == 0) return;
            if (!largest.Log.HasSpilled) SpilledTransactions++;
            _memory -= largest.Log.MemoryBytes;
            largest.Log.Spill();
        }
    }

    public void Dispose()
    {
        _emitted?.Dispose();
        _emitted = null;
        foreach (var transaction in _open.Values) transaction.Log.Dispose();
        _open.Clear();
        _memory = 0;
    }
}
