using System.Diagnostics;
using System.Globalization;
using DataSync.TestRig;

namespace DataSync.Benchmarks.Suite;

/// <summary>
/// A running <c>datasync start --foreground</c> started by the suite: its pid, its memory as the
/// kernel counts it (/proc/PID/status), and a stop that asks politely before it kills.
/// </summary>
internal sealed class DaemonProcess : IAsyncDisposable
{
    private readonly DatasyncCli _cli;
    private readonly string _config;
    private readonly Process _process;
    private long _sampledPeakKb;
    private readonly CancellationTokenSource _sampling = new();
    private readonly Task _sampler;

    public DaemonProcess(DatasyncCli cli, string config, Process process, string consoleLog)
    {
        _cli = cli;
        _config = config;
        _process = process;
        ConsoleLog = consoleLog;
        _sampler = SampleAsync(_sampling.Token);
    }

    public int Pid => _process.Id;
    public string ConsoleLog { get; }
    public bool HasExited => _process.HasExited;

    /// <summary>Peak resident set size since the process started (VmHWM), in KiB.</summary>
    public long PeakRssKb() => StatusField("VmHWM");

    /// <summary>Current resident set size (VmRSS), in KiB.</summary>
    public long RssKb() => StatusField("VmRSS");

    /// <summary>
    /// What the resident set is made of now (/proc/PID/status), in KiB: anonymous (GC heap, the C allocator's arenas,
    /// stacks), file-backed (assemblies and native libraries mapped in) and shared memory (the runtime maps its
    /// JIT-compiled code and stubs through a memfd, so that is where compiled code shows).
    /// </summary>
    public (long Anonymous, long File, long Shared) RssPartsKb() => (StatusField("RssAnon"), StatusField("RssFile"), StatusField("RssShmem"));

    /// <summary>Highest VmRSS seen by the 100 ms sampler since the last <see cref="ResetSampledPeak"/>.</summary>
    public long SampledPeakKb => Interlocked.Read(ref _sampledPeakKb);

    public void ResetSampledPeak() => Interlocked.Exchange(ref _sampledPeakKb, 0);

    /// <summary>Fails with the daemon's console output when it has died.</summary>
    public void EnsureRunning()
    {
        if (_process.HasExited)
            throw new InvalidOperationException($"the daemon exited (code {_process.ExitCode}); console:\n{Tail(ConsoleLog)}");
    }

    private long StatusField(string name)
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (!line.StartsWith(name + ":", StringComparison.Ordinal)) continue;
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }

        throw new InvalidOperationException($"/proc/{Pid}/status has no {name}");
    }

    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var rss = RssKb();
                long seen;
                while (rss > (seen = Interlocked.Read(ref _sampledPeakKb)) && Interlocked.CompareExchange(ref _sampledPeakKb, rss, seen) != seen)
                {
                }

                await Task.Delay(100, cancellationToken);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or OperationCanceledException)
            {
                return;
            }
        }
    }

    public static string Tail(string path, int lines = 30) =>
        File.Exists(path) ? string.Join('\n', File.ReadLines(path).TakeLast(lines)) : "(no output)";

    public async ValueTask DisposeAsync()
    {
        await _sampling.CancelAsync();
        await _sampler;
        if (Processes.IsRunning(Pid))
        {
            try
            {
                await _cli.RunAsync(_config, "stop").WaitAsync(TimeSpan.FromSeconds(60));
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                Console.WriteLine($"datasync stop did not succeed ({e.Message.Split('\n')[0]}); killing pid {Pid}");
            }

            using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(exited.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        _sampling.Dispose();
    }
}
