using System.CommandLine;
using DataSync.Core.Embedded;
using DataSync.Core.Schema;
using DataSync.Core.Tables;
using Npgsql;

namespace DataSync.Cli.Commands;

/// <summary>
/// <c>datasync demo</c>: the newcomer's first run on throwaway clusters: a production with archiving and
/// a base backup, a local target with the same DDL, a workload, then the sync and its verification.
/// </summary>
public static class DemoCommand
{
    /// <summary>The OS user the demo's servers run as when it is started as root.</summary>
    public const string DemoAccountName = "datasync-demo";

    private const string DemoDdl = """
        CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped', 'cancelled');
        CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, email text, created timestamptz NOT NULL DEFAULT now());
        CREATE TABLE orders (
            id bigint PRIMARY KEY,
            customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
            status order_status NOT NULL,
            amount numeric(12, 2) NOT NULL,
            items jsonb,
            note text
        );
        """;

    public static Command Build(CliContext context)
    {
        var keep = new Option<bool>("--keep") { Description = "Leave the throwaway clusters running and their folder in place, to explore them afterwards." };
        var command = new Command("demo", DataSyncCli.Describe(
            "Run the whole tool on throwaway PostgreSQL 18.1 clusters: production with archiving and a base backup, a local target, a workload, the daemon, a verification."));
        command.Options.Add(keep);
        command.SetAction((parse, cancellationToken) => DataSyncCli.GuardAsync(context, () => RunAsync(context, parse.GetValue(keep), cancellationToken)));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, bool keep, CancellationToken cancellationToken)
    {
        var output = context.Out;
        output.WriteLine("demo: getting PostgreSQL 18.1 server binaries...");
        var binaries = await PostgresBinaries.ResolveAsync(context.Environment("PG_BIN_DIR"), cancellationToken).ConfigureAwait(false);
        var account = ServerAccount.For(context.Environment("PG_OS_USER") ?? DemoAccountName);
        await account.EnsureExistsAsync(cancellationToken).ConfigureAwait(false);
        binaries = await binaries.ReachableByAsync(account, cancellationToken).ConfigureAwait(false);

        var root = Directory.CreateTempSubdirectory("datasync-demo-").FullName;
        File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101);
        output.WriteLine($"demo: working in {root}{(account.SwitchesUser ? $" (servers run as OS user {account})" : "")}");
        EmbeddedProduction? production = null;
        EmbeddedLocal? local = null;
        try
        {
            production = await EmbeddedProduction.StartAsync(binaries, account, Path.Combine(root, "production")).ConfigureAwait(false);
            output.WriteLine($"demo: production cluster up on port {production.Server.Port}, archiving into {production.ArchiveDirectory}");
            await production.ExecuteAsync(DemoDdl).ConfigureAwait(false);
            await production.ExecuteAsync("""
                INSERT INTO customers (id, name, email) SELECT g, 'customer ' || g, 'c' || g || '@example.com' FROM generate_series(1, 1000) g;
                INSERT INTO orders SELECT g, 1 + g % 1000, 'new', g * 1.25, jsonb_build_object('sku', 'A' || g, 'qty', g % 7), NULL FROM generate_series(1, 5000) g;
                """).ConfigureAwait(false);
            var backup = await production.TakeBaseBackupAsync(BaseBackupFormat.Plain).ConfigureAwait(false);
            output.WriteLine($"demo: base backup taken at {backup.StartLsn} into {backup.Directory}");

            await production.ExecuteAsync("""
                UPDATE orders SET status = 'paid' WHERE id % 3 = 0;
                DELETE FROM customers WHERE id % 97 = 0;
                INSERT INTO orders SELECT g, 1 + g % 1000, 'new', g * 0.5, NULL, repeat('long note ', 500) FROM generate_series(5001, 6000) g WHERE (1 + g % 1000) % 97 <> 0;
                """).ConfigureAwait(false);
            var segment = await production.SwitchSegmentAndWaitArchivedAsync().ConfigureAwait(false);
            output.WriteLine($"demo: workload written on production; archived up to segment {segment}");

            local = await EmbeddedLocal.StartAsync(binaries, account, Path.Combine(root, "local")).ConfigureAwait(false);
            await local.ExecuteAsync(DemoDdl).ConfigureAwait(false);
            await using (var dataSource = NpgsqlDataSource.Create(local.ConnectionString))
            {
                await new SchemaMigrator(dataSource).MigrateAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                var changes = await new TableRegistry(dataSource).AddAsync(TableNameParser.ParseList(["customers, orders"]), Environment.UserName, cancellationToken).ConfigureAwait(false);
                foreach (var change in changes) output.WriteLine($"demo: {change}");
            }

            output.WriteLine($"demo: local cluster up on port {local.Server.Port} with the same DDL (database {EmbeddedLocal.Database}, user {EmbeddedLocal.User})");
            context.Fail("demo: the sync daemon is not built yet, so the demo stops here: the clusters, the base backup, the archive and the workload are ready, nothing was synced");
            return ExitCodes.Failure;
        }
        finally
        {
            if (keep)
            {
                output.WriteLine($"demo: --keep: clusters left running in {root}; stop them with pg_ctl -D <folder>/data stop");
            }
            else
            {
                if (local is not null) await local.DisposeAsync().ConfigureAwait(false);
                if (production is not null) await production.DisposeAsync().ConfigureAwait(false);
                Directory.Delete(root, recursive: true);
                output.WriteLine("demo: throwaway clusters stopped and removed");
            }
        }
    }
}
