using DataSync.Wal;

namespace DataSync.Core.Sync;

/// <summary>
/// One sink per syncing table, kept from pass to pass (its local connection and open batch live as long as the
/// table syncs): a pass gets the sinks of the tables syncing now with their checkpoints, made for tables new to the
/// list, retired for tables that left it or stopped syncing (paused, resync asked, removed).
/// </summary>
public sealed class TableSinkSet<TSink>(Func<TableSyncState, TSink> create, Action<TSink> retire) where TSink : ITableSink
{
    private readonly Dictionary<string, TSink> _sinks = [];

    /// <summary>The sinks alive now.</summary>
    public IEnumerable<TSink> All => _sinks.Values;

    /// <summary>The sink of <paramref name="table"/> (its canonical name), if it has one.</summary>
    public TSink? Find(string table) => _sinks.GetValueOrDefault(table);

    /// <summary>The sinks for the syncing tables of <paramref name="tables"/> (the state just read), each with the checkpoint the database holds.</summary>
    public IReadOnlyList<(ITableSink Sink, Lsn Checkpoint)> For(IReadOnlyList<TableSyncState> tables)
    {
        var syncing = tables.Where(t => t.State == TableState.Syncing).ToList();
        var keep = syncing.Select(t => t.Table.ToString()).ToHashSet();
        foreach (var gone in _sinks.Keys.Where(k => !keep.Contains(k)).ToList())
        {
            retire(_sinks[gone]);
            _sinks.Remove(gone);
        }

        var result = new List<(ITableSink, Lsn)>(syncing.Count);
        foreach (var table in syncing)
        {
            var key = table.Table.ToString();
            if (!_sinks.TryGetValue(key, out var sink)) _sinks[key] = sink = create(table);
            result.Add((sink, table.Checkpoint));
        }

        return result;
    }

    /// <summary>Retires every sink (the driver stops).</summary>
    public void Clear()
    {
        foreach (var sink in _sinks.Values) retire(sink);
        _sinks.Clear();
    }
}
