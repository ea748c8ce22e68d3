using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace DataSync.Actors.Hosting;

/// <summary>
/// How long the daemon's start-up took, phase by phase, counted from the moment the kernel started the process (so
/// the runtime's own start and the command line count too). The daemon logs the phases once it runs and the time of
/// its first fetch: what a catch-up after a restart waits before any WAL moves. Each phase also counts the methods the
/// JIT compiled in it (on every thread), as a fresh process pays for its dependencies there, and the whole the process's
/// CPU time: on a busy machine wall time says more about the neighbours than about the daemon.
/// </summary>
public sealed class StartupTimeline
{
    private readonly DateTime _processStartUtc;
    private readonly List<(string Phase, TimeSpan Took, long Methods)> _phases = [];
    private long _lastMethods;
    private TimeSpan _last;

    public StartupTimeline()
    {
        using var self = Process.GetCurrentProcess();
        _processStartUtc = self.StartTime.ToUniversalTime();
        Mark("runtime and command line");
    }

    /// <summary>Time since the process started.</summary>
    public TimeSpan Elapsed => DateTime.UtcNow - _processStartUtc;

    /// <summary>Ends the phase <paramref name="phase"/>, which ran since the previous mark.</summary>
    public void Mark(string phase)
    {
        lock (_phases)
        {
            var now = Elapsed;
            var methods = System.Runtime.JitInfo.GetCompiledMethodCount();
            _phases.Add((phase, now - _last, methods - _lastMethods));
            _last = now;
            _lastMethods = methods;
        }
    }

    /// <summary>"0.840 s, cpu 1.12 s, 9,812 methods JIT-compiled in 0.61 s (runtime and command line 0.210 s/1,200, ...)".</summary>
    public string Describe()
    {
        lock (_phases)
        {
            var text = new StringBuilder(Seconds(_last)).Append(", ").Append(Jit()).Append(" (");
            text.AppendJoin(", ", _phases.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Phase} {Seconds(p.Took)}/{p.Methods:N0}")));
            return text.Append(')').ToString();
        }
    }

    /// <summary>"cpu 1.12 s, 9,812 methods JIT-compiled in 0.61 s": the whole process's so far.</summary>
    public static string Jit()
    {
        using var self = Process.GetCurrentProcess();
        return string.Create(CultureInfo.InvariantCulture,
            $"cpu {self.TotalProcessorTime.TotalSeconds:0.00} s, {System.Runtime.JitInfo.GetCompiledMethodCount():N0} methods JIT-compiled in {System.Runtime.JitInfo.GetCompilationTime().TotalSeconds:0.00} s");
    }

    public static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.000 's'", CultureInfo.InvariantCulture);
}
