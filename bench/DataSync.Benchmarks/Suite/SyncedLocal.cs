using System.Globalization;
using DataSync.TestRig;

namespace DataSync.Benchmarks.Suite;

/// <summary>
/// A local cluster that DataSync fills from a production cluster: the same DDL, a configuration file,
/// <c>datasync add-tables</c>, and the daemon started through the CLI (a black box to the suite).
/// </summary>
internal sealed class SyncedLocal : IAsyncDisposable
{
    private readonly string? _profileDirectory;
    private readonly string _name;
    private int _starts;

    private SyncedLocal(LocalCluster local, string config, string stateDir, DatasyncCli cli, string name, string? profileDirectory)
    {
        _name = name;
        _profileDirectory = profileDirectory;
        Local = local;
        Config = config;
        StateDir = stateDir;
        Cli = cli;
    }

    public LocalCluster Local { get; }
    public string Config { get; }
    public string StateDir { get; }
    public DatasyncCli Cli { get; }
    public DaemonProcess? Daemon { get; private set; }

    public string DaemonLogFile => Path.Combine(StateDir, "logs", "datasync.log");

    public static async Task<SyncedLocal> CreateAsync(string name, ProductionCluster production, DatasyncCli cli, string ddl, IEnumerable<string> tables, string? profileDirectory)
    {
        var local = await LocalCluster.StartAsync(name);
        try
        {
            await local.ExecuteAsync(ddl);
            var stateDir = Path.Combine(local.Root, "state");
            var config = await DatasyncCli.WriteConfigAsync(local, production, stateDir);
            await cli.RunAsync(config, "add-tables", string.Join(',', tables));
            if (profileDirectory is not null)
            {
                // The local server's statement log shows where an apply spends its time (staging COPY, INSERT, UPDATE, DELETE).
                await local.ExecuteAsync("ALTER SYSTEM SET log_min_duration_statement = 20");
                await local.ExecuteAsync("SELECT pg_reload_conf()");
            }

            return new SyncedLocal(local, config, stateDir, cli, name, profileDirectory);
        }
        catch
        {
            await local.DisposeAsync();
            throw;
        }
    }

    public DaemonProcess StartDaemon()
    {
        Directory.CreateDirectory(Local.Root);
        Daemon = Cli.StartForeground(Config, Path.Combine(Local.Root, "daemon.console"));
        if (_profileDirectory is not null) DaemonProfiler.Attach(_profileDirectory, Daemon.Pid, ++_starts == 1 ? _name : $"{_name}-{_starts}");
        return Daemon;
    }

    /// <summary>Stops the daemon (<c>datasync stop</c>, killed when that fails); <see cref="StartDaemon"/> starts a new one.</summary>
    public async Task StopDaemonAsync()
    {
        if (Daemon is null) return;
        await Daemon.DisposeAsync();
        Daemon = null;
    }

    /// <summary>The daemon's log lines written since <paramref name="since"/> (UTC): its own timings per phase.</summary>
    public IReadOnlyList<string> LogSince(DateTime since) => TimedLogSince(since).Select(l => l.Line).ToList();

    /// <summary>When (UTC) the first log line since <paramref name="since"/> containing <paramref name="text"/> was written, if one was.</summary>
    public DateTime? FirstLogAt(DateTime since, string text) =>
        TimedLogSince(since).Where(l => l.Line.Contains(text, StringComparison.Ordinal)).Select(l => (DateTime?)l.AtUtc).FirstOrDefault();

    private List<(DateTime AtUtc, string Line)> TimedLogSince(DateTime since)
    {
        if (!File.Exists(DaemonLogFile)) return [];
        using var stream = new FileStream(DaemonLogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var lines = new List<(DateTime, string)>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length >= 30 && DateTimeOffset.TryParseExact(line[..30], "yyyy-MM-dd HH:mm:ss.fff zzz", CultureInfo.InvariantCulture, DateTimeStyles.None, out var at)
                && at.UtcDateTime >= since)
                lines.Add((at.UtcDateTime, line));
        }

        return lines;
    }

    public string Diagnostics() =>
        $"daemon log tail:\n{DaemonProcess.Tail(DaemonLogFile)}\ndaemon console tail:\n{(Daemon is null ? "(not started)" : DaemonProcess.Tail(Daemon.ConsoleLog))}";

    public async ValueTask DisposeAsync()
    {
        if (Daemon is not null) await Daemon.DisposeAsync();
        // The daemon's log outlives the throwaway cluster, to explain an outlier afterwards.
        if (File.Exists(DaemonLogFile))
        {
            var kept = Path.Combine(Path.GetTempPath(), "datasync-bench-logs", $"{_name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}.log");
            Directory.CreateDirectory(Path.GetDirectoryName(kept)!);
            File.Copy(DaemonLogFile, kept, overwrite: true);
            Console.WriteLine($"daemon log kept as {kept}");
        }

        if (_profileDirectory is not null && File.Exists(Local.Server.LogFile))
            File.Copy(Local.Server.LogFile, Path.Combine(_profileDirectory, _name + ".local-postgres.log"), overwrite: true);
        await Local.DisposeAsync();
    }
}
