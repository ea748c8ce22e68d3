using Npgsql;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// Three tables linked by foreign keys with ON DELETE CASCADE (parents ← children ← grandchildren), with
/// triggers: every row change of them writes a row to <c>audit</c> (synced) and to <c>audit_unsynced</c>
/// (not synced), a BEFORE UPDATE trigger counts a parent's updates in the row itself, and a TRUNCATE of
/// children is audited too. Locally none of these may fire: the audit tables get only what is synced.
/// One seeded session of random family changes works in its own id range.
/// </summary>
internal sealed class FamilyWorkload(NpgsqlConnection connection, int session, int seed)
{
    public const string Ddl = """
        CREATE TABLE parents (id int PRIMARY KEY, name text NOT NULL, touched int NOT NULL DEFAULT 0);
        CREATE TABLE children (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parents (id) ON DELETE CASCADE, body text);
        CREATE TABLE grandchildren (id int PRIMARY KEY, child_id int NOT NULL REFERENCES children (id) ON DELETE CASCADE, note text);
        CREATE INDEX ON children (parent_id);
        CREATE INDEX ON grandchildren (child_id);
        CREATE TABLE audit (id bigserial PRIMARY KEY, table_name text NOT NULL, op text NOT NULL, row_id int NOT NULL);
        CREATE TABLE audit_unsynced (id bigserial PRIMARY KEY, table_name text NOT NULL, op text NOT NULL, row_id int NOT NULL);
        CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO audit (table_name, op, row_id) VALUES (TG_TABLE_NAME, TG_OP, CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
            INSERT INTO audit_unsynced (table_name, op, row_id) VALUES (TG_TABLE_NAME, TG_OP, CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
            RETURN NULL;
        END $$;
        CREATE FUNCTION audit_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO audit (table_name, op, row_id) VALUES (TG_TABLE_NAME, TG_OP, 0);
            RETURN NULL;
        END $$;
        CREATE FUNCTION count_touch() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.touched := NEW.touched + 1;
            RETURN NEW;
        END $$;
        CREATE TRIGGER parents_audit AFTER INSERT OR UPDATE OR DELETE ON parents FOR EACH ROW EXECUTE FUNCTION audit_row();
        CREATE TRIGGER children_audit AFTER INSERT OR UPDATE OR DELETE ON children FOR EACH ROW EXECUTE FUNCTION audit_row();
        CREATE TRIGGER grandchildren_audit AFTER INSERT OR UPDATE OR DELETE ON grandchildren FOR EACH ROW EXECUTE FUNCTION audit_row();
        CREATE TRIGGER children_truncate AFTER TRUNCATE ON children FOR EACH STATEMENT EXECUTE FUNCTION audit_truncate();
        CREATE TRIGGER parents_touch BEFORE UPDATE ON parents FOR EACH ROW EXECUTE FUNCTION count_touch();
        """;

    /// <summary>Families before the base backup: 50 parents per session range, 2 children each, 1 grandchild per child.</summary>
    public const string Setup = """
        INSERT INTO parents (id, name) SELECT s * 100000 + g, 'p' || g FROM generate_series(0, 2) s, generate_series(1, 50) g;
        INSERT INTO children SELECT s * 100000 + g * 10 + c, s * 100000 + g, 'c' || c FROM generate_series(0, 2) s, generate_series(1, 50) g, generate_series(1, 2) c;
        INSERT INTO grandchildren SELECT id, id, 'g' FROM children;
        """;

    private readonly Random _random = new(seed);
    private readonly List<int> _parents = Enumerable.Range(1, 50).Select(g => session * 100000 + g).ToList();
    private int _next = session * 100000 + 1000;

    public async Task RunAsync(int iterations)
    {
        for (var i = 0; i < iterations; i++)
        {
            var pick = _random.Next(100);
            await using var transaction = await connection.BeginTransactionAsync();
            if (pick < 30) await NewFamilyAsync();
            else if (pick < 45) await ExecuteAsync("UPDATE parents SET name = name || '+' WHERE id = $1", Parent());
            else if (pick < 55) await ExecuteAsync("UPDATE children SET body = coalesce(body, '') || '*', parent_id = $2 WHERE parent_id = $1", Parent(), Parent());
            else if (pick < 65) await ExecuteAsync("UPDATE grandchildren g SET note = note || '~' FROM children c WHERE c.id = g.child_id AND c.parent_id = $1", Parent());
            else if (pick < 80) await DeleteParentAsync();
            else if (pick < 90) await ExecuteAsync("DELETE FROM children WHERE id = (SELECT min(id) FROM children WHERE parent_id = $1)", Parent());
            else
            {
                // Aborted: nothing of it may arrive.
                await NewFamilyAsync(remember: false);
                await ExecuteAsync("DELETE FROM parents WHERE id = $1", Parent());
                await transaction.RollbackAsync();
                continue;
            }

            await transaction.CommitAsync();
        }
    }

    private async Task NewFamilyAsync(bool remember = true)
    {
        var parent = _next;
        _next += 10;
        await ExecuteAsync("INSERT INTO parents (id, name) VALUES ($1, 'new')", parent);
        if (remember) _parents.Add(parent);
        await ExecuteAsync("INSERT INTO children SELECT $1 + c, $1, 'n' || c FROM generate_series(1, $2) c", parent, _random.Next(0, 4));
        await ExecuteAsync("INSERT INTO grandchildren SELECT id, id, 'ng' FROM children WHERE parent_id = $1", parent);
    }

    /// <summary>Production cascades the delete to children and grandchildren; each arrives as its own row change.</summary>
    private async Task DeleteParentAsync()
    {
        if (_parents.Count == 0) return;
        var index = _random.Next(_parents.Count);
        await ExecuteAsync("DELETE FROM parents WHERE id = $1", _parents[index]);
        _parents.RemoveAt(index);
    }

    private int Parent() => _parents.Count == 0 ? -1 : _parents[_random.Next(_parents.Count)];

    private async Task ExecuteAsync(string sql, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value });
        await command.ExecuteNonQueryAsync();
    }
}
