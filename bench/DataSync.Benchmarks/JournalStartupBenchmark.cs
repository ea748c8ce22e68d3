using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using DataSync.Actors.Hosting;
using DataSync.Actors.Pipeline;
using DataSync.Messages.Journal;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Benchmarks;

/// <summary>
/// What the checkpoint journal (Akka.Persistence.Sql: linq2db, LanguageExt) costs a fresh process, the way the daemon
/// meets it: Npgsql already warm (the daemon has migrated its schema by then) and the actor system already running,
/// then the first table's journal is started, recovered and written once. Reported per step: wall time, methods the
/// JIT compiled, its compilation time, assemblies loaded and resident memory grown. Then the same for a second
/// table's journal (what the dependency graph no longer costs once paid). Run in its own process: the JIT counts are
/// the process's.
/// </summary>
internal static class JournalStartupBenchmark
{
    public static async Task<int> RunAsync()
    {
        await using var local = await LocalCluster.StartAsync("bench-journal");
        var connectionString = local.ConnectionString;

        var npgsql = await Step("Npgsql: open a connection, one query (the daemon has done this before)", async () =>
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_class", connection);
            await command.ExecuteScalarAsync();
        });

        ActorSystem? system = null;
        var akka = await Step("Akka: actor system with the daemon's settings (no remoting), one actor asked", async () =>
        {
            var config = ConfigurationFactory.ParseString("akka.actor.provider = local")
                .WithFallback(JournalHocon.Settings)
                .WithFallback(DataSyncHocon.Load());
            system = ActorSystem.Create("journal-bench", BootstrapSetup.Create().WithConfig(config).And(JournalHocon.Connection(connectionString)));
            var echo = system.ActorOf(Props.Create(() => new Echo()));
            await echo.Ask<string>("ping", TimeSpan.FromSeconds(30));
        });

        var first = await Step("checkpoint journal, first table: start, recover (tables created), one write, read back", () => JournalRoundAsync(system!, "public.first"));
        var second = await Step("checkpoint journal, second table: the same", () => JournalRoundAsync(system!, "public.second"));
        await system!.Terminate();

        Console.WriteLine();
        Console.WriteLine("| Step | Wall | Methods JIT-compiled | JIT time | Assemblies loaded | RSS grown |");
        Console.WriteLine("| :-- | --: | --: | --: | --: | --: |");
        foreach (var (name, result) in new[] { ("Npgsql warm-up", npgsql), ("Akka actor system", akka), ("journal, first table", first), ("journal, second table", second) })
            Console.WriteLine(result.Row(name));
        return 0;
    }

    private static async Task JournalRoundAsync(ActorSystem system, string table)
    {
        var journal = system.ActorOf(CheckpointJournal.Unsupervised(table));
        // Commands wait until recovery ends: the first answer means it has.
        await journal.Ask<JournaledCheckpoint>(JournaledCheckpointQuery.Instance, TimeSpan.FromSeconds(60));
        journal.Tell(new JournalCheckpoint(new TableCheckpointJournaled(table, "0/1000000", "000000010000000000000001", 1)));
        var back = await journal.Ask<JournaledCheckpoint>(JournaledCheckpointQuery.Instance, TimeSpan.FromSeconds(60));
        if (back.Last?.CheckpointLsn != "0/1000000") throw new InvalidOperationException($"the journal of {table} did not keep its checkpoint");
    }

    private static async Task<StepResult> Step(string what, Func<Task> step)
    {
        Console.WriteLine(what);
        var methods = System.Runtime.JitInfo.GetCompiledMethodCount();
        var jit = System.Runtime.JitInfo.GetCompilationTime();
        var assemblies = AppDomain.CurrentDomain.GetAssemblies().Length;
        var rss = RssKb();
        var clock = Stopwatch.StartNew();
        await step();
        var result = new StepResult(clock.Elapsed, System.Runtime.JitInfo.GetCompiledMethodCount() - methods, System.Runtime.JitInfo.GetCompilationTime() - jit,
            AppDomain.CurrentDomain.GetAssemblies().Length - assemblies, RssKb() - rss);
        Console.WriteLine(result.Row(what));
        return result;
    }

    private static long RssKb() =>
        File.ReadLines("/proc/self/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)).First();

    private sealed record StepResult(TimeSpan Wall, long Methods, TimeSpan Jit, int Assemblies, long RssKb)
    {
        public string Row(string name) => string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {Wall.TotalMilliseconds:F0} ms | {Methods:N0} | {Jit.TotalMilliseconds:F0} ms | {Assemblies} | {RssKb / 1024.0:F1} MiB |");
    }

    private sealed class Echo : ReceiveActor
    {
        public Echo() => Receive<string>(s => Sender.Tell(s));
    }
}
