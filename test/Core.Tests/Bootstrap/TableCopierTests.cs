using DataSync.Core.Bootstrap;
using DataSync.Core.Tables;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Core.Tests.Bootstrap;

public sealed class TableCopierTests
{
    /// <summary>
    /// The copy into a local table whose row-level security applies to the copying user (its owner, FORCE'd): the server
    /// refuses COPY into it, so the rows go through a staging table and one INSERT its policies admit.
    /// </summary>
    [Fact]
    public async Task A_table_under_row_level_security_for_the_user_is_copied_through_its_insert_policy()
    {
        await using var cluster = await LocalCluster.StartAsync("copy-rls");
        const string ddl = "CREATE TABLE ledger (id bigint PRIMARY KEY, memo text, amount numeric(12,2))";
        await cluster.Server.ExecuteAsync("CREATE DATABASE theirs", "postgres");
        await cluster.Server.ExecuteAsync(ddl + "; INSERT INTO ledger SELECT g, 'memo ' || g, g * 0.5 FROM generate_series(1, 500) g", "theirs");
        await cluster.ExecuteAsync(ddl + """
            ;
            CREATE ROLE copier LOGIN PASSWORD 'copy-only';
            ALTER TABLE ledger OWNER TO copier;
            ALTER TABLE ledger ENABLE ROW LEVEL SECURITY;
            ALTER TABLE ledger FORCE ROW LEVEL SECURITY;
            CREATE POLICY seen ON ledger FOR SELECT USING (true);
            CREATE POLICY added ON ledger FOR INSERT WITH CHECK (amount >= 0);
            """);

        await using var theirs = new NpgsqlConnection(cluster.Server.ConnectionString("theirs"));
        await using var ours = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(cluster.ConnectionString) { Username = "copier", Password = "copy-only" }.ConnectionString);
        await theirs.OpenAsync();
        await ours.OpenAsync();
        var ledger = new TableName("public", "ledger");
        await using (var transaction = await ours.BeginTransactionAsync())
        {
            Assert.Equal(500, await TableCopier.CopyAsync(theirs, ours, ledger, ["id", "memo", "amount"], freeze: false, CancellationToken.None));
            await transaction.CommitAsync();
        }

        const string checksum = "SELECT md5(string_agg(l::text, '|' ORDER BY id)) FROM ledger l";
        await using var sum = new NpgsqlCommand(checksum, theirs);
        Assert.Equal((string)(await sum.ExecuteScalarAsync())!, await cluster.QueryScalarAsync<string>(checksum));
    }
}
