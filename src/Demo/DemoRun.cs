using System.CommandLine;
using DataSync.Cli;
using DataSync.Core.Configuration;
using DataSync.Core.Embedded;
using DataSync.Embedded;

namespace DataSync.Demo;

/// <summary>
/// <c>datasync-demo</c>: the newcomer's first run on throwaway clusters: a production with archiving and
/// a base backup, a local target with the same DDL, a workload, then the sync and its verification.
/// </summary>
public static class DemoRun
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

    public static RootCommand Build(CliContext context)
    {
        var keep = new Option<bool>("--keep") { Description = "Leave the throwaway clusters running and their folder in place, to explore them afterwards." };
        var command = new RootCommand(
            "Run the whole datasync tool on throwaway PostgreSQL 18.1 clusters: production with archiving and a base backup, " +
            $"a local target, a workload, the daemon, a verification.\n{ExitCodes.HelpText}");
        command.Options.Add(keep);
        command.SetAction((parse, cancellationToken) => DataSyncCli.GuardAsync(context, () => RunAsync(context, parse.GetValue(keep), cancellationToken)));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, bool keep, CancellationToken cancellationToken)
    {
        var output = context.Out;
        output.WriteLine("demo: getting PostgreSQL 18.1 server binaries...");
        var binaries = await RepositoryPostgres.ResolveAsync(context.Environment("PG_BIN_DIR"), cancellationToken).ConfigureAwait(false);
        var account = ServerAccount.For(context.Environment("PG_OS_USER") ?? DemoAccountName);
        await account.EnsureExistsAsync(cancellationToken).ConfigureAwait(false);
        binaries = await binaries.ReachableByAsync(account, cancellationToken).ConfigureAwait(false);

        var root = Directory.CreateTempSubdirectory("datasync-demo-").FullName;
        File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101);
        output.WriteLine($"demo: working in {root}{(account.SwitchesUser ? $" (servers run as OS user {account})" : "")}");
        EmbeddedProduction? production = null;
        EmbeddedLocal? local = null;
        string? config = null;
        try
        {
            production = await EmbeddedProduction.StartAsync(binaries, account, Path.Combine(root, "production"));
            output.WriteLine($"demo: production cluster up on port {production.Server.Port}, archiving into {production.ArchiveDirectory}");
            await production.ExecuteAsync(DemoDdl).ConfigureAwait(false);
            await production.ExecuteAsync("""
                INSERT INTO customers (id, name, email) SELECT g, 'customer ' || g, 'c' || g || '@example.com' FROM generate_series(1, 1000) g;
                INSERT INTO orders SELECT g, 1 + g % 1000, 'new', g * 1.25, jsonb_build_object('sku', 'A' || g, 'qty', g % 7), NULL FROM generate_series(1, 5000) g;
                """).ConfigureAwait(false);
            var backup = await production.TakeBaseBackupAsync(BaseBackupFormat.Plain).ConfigureAwait(false);
            output.WriteLine($"demo: base backup taken at {backup.StartLsn} into {backup.Directory}");
            await production.ExecuteAsync("UPDATE orders SET status = 'paid' WHERE id % 3 = 0").ConfigureAwait(false);
            await production.SwitchSegmentAndWaitArchivedAsync().ConfigureAwait(false);

            local = await EmbeddedLocal.StartAsync(binaries, account, Path.Combine(root, "local"));
            await local.ExecuteAsync(DemoDdl).ConfigureAwait(false);
            output.WriteLine($"demo: local cluster up on port {local.Server.Port} with the same DDL (database {EmbeddedLocal.Database}, user {EmbeddedLocal.User})");

            config = Path.Combine(root, "datasync.toml");
            await File.WriteAllTextAsync(config, $"""
                # written by datasync-demo
                PG_PORT = {local.Server.Port}
                PG_USER_NAME = "{EmbeddedLocal.User}"
                PG_PASSWORD = "{local.Password}"
                PG_DB_NAME = "{EmbeddedLocal.Database}"
                PROD_DB_NAME = "{EmbeddedProduction.Database}"
                ARCHIVE_DIR = "{production.ArchiveDirectory}"
                BASE_BACKUP_DIR = "{production.BackupDirectory}"
                PG_BIN_DIR = "{binaries.BinDirectory}"
                STATE_DIR = "{Path.Combine(root, "state")}"
                CONTROL_PORT = {PostgresServer.FindFreePort()}
                DATA_SYNC_FREQ = 2
                {(account.SwitchesUser ? $"PG_OS_USER = \"{account.UserName}\"" : "")}
                """, cancellationToken).ConfigureAwait(false);
            File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            output.WriteLine($"demo: configuration written to {config}");

            if (await RunCliAsync(context, config, "add-tables", "customers, orders") != ExitCodes.Ok) return ExitCodes.Failure;
            if (await RunCliAsync(context, config, "start") != ExitCodes.Ok) return ExitCodes.Failure;
            await WaitIdenticalAsync(context, production, local, "after the bootstrap from the base backup", cancellationToken).ConfigureAwait(false);

            output.WriteLine("demo: production writes while the daemon runs: updates, deletes with cascades, a big insert, a rolled-back transaction, 2PC");
            foreach (var statement in DemoWorkload) await production.ExecuteAsync(statement).ConfigureAwait(false);
            await production.SwitchSegmentAndWaitArchivedAsync().ConfigureAwait(false);
            await WaitIdenticalAsync(context, production, local, "after the workload", cancellationToken).ConfigureAwait(false);

            await RunCliAsync(context, config, "status", "--verbose");
            await RunCliAsync(context, config, "stop");
            output.WriteLine("demo: done: the local tables are identical to production (md5 of the ordered rows)");
            return ExitCodes.Ok;
        }
        finally
        {
            if (keep)
            {
                output.WriteLine($"demo: --keep: clusters left running in {root}; DATA_SYNC_CONFIG={config}");
            }
            else
            {
                if (config is not null) await RunQuietlyAsync(config, "stop").ConfigureAwait(false);
                if (local is not null) await local.DisposeAsync().ConfigureAwait(false);
                if (production is not null) await production.DisposeAsync().ConfigureAwait(false);
                Directory.Delete(root, recursive: true);
                output.WriteLine("demo: throwaway clusters stopped and removed");
            }
        }
    }

    private static readonly string[] DemoWorkload =
    [
        "UPDATE orders SET status = 'shipped', note = repeat('handle with care ', 200) WHERE id % 5 = 0",
        "DELETE FROM customers WHERE id % 97 = 0",
        "INSERT INTO orders SELECT g, 1 + g % 1000, 'new', g * 0.5, NULL, NULL FROM generate_series(5001, 20000) g WHERE (1 + g % 1000) % 97 <> 0",
        "BEGIN; DELETE FROM orders; ROLLBACK;",
        "BEGIN; UPDATE customers SET name = upper(name) WHERE id < 100; PREPARE TRANSACTION 'demo';",
        "COMMIT PREPARED 'demo'",
    ];

    private static readonly string[] DemoTables = ["customers", "orders"];

    /// <summary>Runs a datasync command against the demo's configuration, printing what it prints.</summary>
    private static Task<int> RunCliAsync(CliContext context, string config, params string[] args)
    {
        context.Out.WriteLine($"demo: $ datasync {string.Join(' ', args)}");
        return DataSyncCli.RunAsync(args, context.Out, context.Error,
            name => name == ConfigKeys.EnvironmentVariable ? config : context.Environment(name));
    }

    private static Task<int> RunQuietlyAsync(string config, params string[] args) =>
        DataSyncCli.RunAsync(args, TextWriter.Null, TextWriter.Null, name => name == ConfigKeys.EnvironmentVariable ? config : null);

    private static async Task WaitIdenticalAsync(CliContext context, EmbeddedProduction production, EmbeddedLocal local, string when, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (true)
        {
            var lines = new List<string>();
            var same = true;
            foreach (var table in DemoTables)
            {
                var sql = $"SELECT count(*) || ' rows, md5 ' || md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM {table} t";
                var upstream = await production.QueryScalarAsync<string>(sql).ConfigureAwait(false);
                var here = await local.QueryScalarAsync<string>(sql).ConfigureAwait(false);
                same &= upstream == here;
                lines.Add($"demo:   {table,-10} production {upstream} | local {here}");
            }

            if (same)
            {
                context.Out.WriteLine($"demo: identical {when}:");
                foreach (var line in lines) context.Out.WriteLine(line);
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                foreach (var line in lines) context.Error.WriteLine(line);
                throw new TimeoutException($"the local tables did not match production within 3 minutes {when}; see the daemon log under the demo's state folder");
            }

            // Polling, with a deadline, for another process (the daemon) to have synced: the demo is its observer, not its peer.
            await Task.Delay(1000, cancellationToken).ConfigureAwait(false);
        }
    }
}
