namespace DataSync.TestRig.Workloads;

/// <summary>
/// Row changes a workload made, per table, counting only what committed: what is rolled back (to a
/// savepoint, or the whole transaction) is forgotten. This is the number of row changes production's
/// WAL carries, which a sync must apply exactly once (TRUNCATE, VACUUM FULL and CLUSTER change no rows).
/// </summary>
public sealed class ChangeTally
{
    private readonly Dictionary<string, long> _committed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, long>> _savepoints = new(StringComparer.Ordinal);
    private Dictionary<string, long>? _open;

    /// <summary>Committed row changes per table name.</summary>
    public IReadOnlyDictionary<string, long> Committed => _committed;

    public long this[string table] => _committed.GetValueOrDefault(table);

    public long Total => _committed.Values.Sum();

    /// <summary>Counts <paramref name="rows"/> changes of <paramref name="table"/>: in the open transaction, or committed at once outside one.</summary>
    public void Add(string table, long rows)
    {
        var target = _open ?? _committed;
        target[table] = target.GetValueOrDefault(table) + rows;
    }

    public void Begin()
    {
        if (_open is not null) throw new InvalidOperationException("a transaction is already open");
        _open = new Dictionary<string, long>(StringComparer.Ordinal);
        _savepoints.Clear();
    }

    public void Save(string name) => _savepoints[name] = new Dictionary<string, long>(Open, StringComparer.Ordinal);

    /// <summary>Back to what was counted at the savepoint, which stays (as in PostgreSQL).</summary>
    public void RollbackTo(string name) => _open = new Dictionary<string, long>(_savepoints[name], StringComparer.Ordinal);

    public void Release(string name) => _savepoints.Remove(name);

    public void Commit()
    {
        var open = Open;
        _open = null;
        foreach (var (table, rows) in open) Add(table, rows);
    }

    public void Rollback() => _open = null;

    /// <summary>The sum per table of several sessions' tallies.</summary>
    public static Dictionary<string, long> Sum(IEnumerable<ChangeTally> tallies)
    {
        var sum = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var tally in tallies)
            foreach (var (table, rows) in tally.Committed)
                sum[table] = sum.GetValueOrDefault(table) + rows;
        return sum;
    }

    private Dictionary<string, long> Open => _open ?? throw new InvalidOperationException("no transaction is open");
}
