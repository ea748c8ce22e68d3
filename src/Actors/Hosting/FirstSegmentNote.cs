using Serilog;
using Serilog.Events;
using Serilog.Parsing;

namespace DataSync.Actors.Hosting;

/// <summary>
/// The daemon's log line for its first fetched segment, stamped with the moment the segment landed. The first fetch
/// starts before the log exists (setting the log up costs a fifth of a second of a fresh process's start), so a segment
/// may land first: its line then waits until <see cref="LogReady"/> and is written with the time it landed, not the
/// time it was written, because that time is what the line is for (how long a restarted daemon's backlog waited).
/// </summary>
internal sealed class FirstSegmentNote(StartupTimeline timeline)
{
    private static readonly MessageTemplate Template = new MessageTemplateParser().Parse("first segment {Segment} fetched into the spool {Since} after launch; {Jit}");

    private readonly object _gate = new();
    private LogEvent? _pending;
    private bool _landed;
    private bool _logReady;

    /// <summary>Told by every fetch as each segment lands; notes the first.</summary>
    public void Landed(string segment)
    {
        LogEvent note;
        lock (_gate)
        {
            if (_landed) return;
            _landed = true;
            note = new LogEvent(DateTimeOffset.Now, LogEventLevel.Information, null, Template,
            [
                new LogEventProperty("Segment", new ScalarValue(segment)),
                new LogEventProperty("Since", new ScalarValue(StartupTimeline.Seconds(timeline.Elapsed))),
                new LogEventProperty("Jit", new ScalarValue(StartupTimeline.Jit())),
            ]);
            if (!_logReady)
            {
                _pending = note;
                return;
            }
        }

        Log.Write(note);
    }

    /// <summary>The daemon's log exists (<see cref="Log.Logger"/>): a line that waited for it is written now.</summary>
    public void LogReady()
    {
        LogEvent? pending;
        lock (_gate)
        {
            _logReady = true;
            pending = _pending;
            _pending = null;
        }

        if (pending is not null) Log.Write(pending);
    }
}
