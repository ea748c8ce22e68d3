using DataSync.Actors.Hosting;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace DataSync.Actors.Tests.Hosting;

/// <summary>
/// The first fetched segment's log line: a segment that lands before the log exists is written once it does, with the
/// time it landed; only the first segment is noted.
/// </summary>
[Collection(nameof(GlobalLogCollection))]
public sealed class FirstSegmentNoteTests
{
    [Fact]
    public async Task A_segment_that_landed_before_the_log_existed_is_logged_once_it_does_with_the_time_it_landed()
    {
        var previous = Log.Logger;
        var events = new Collected();
        try
        {
            Log.Logger = Serilog.Core.Logger.None;
            var note = new FirstSegmentNote(new StartupTimeline());
            var before = DateTimeOffset.Now;
            note.Landed("000000010000000000000007");
            var landedBy = DateTimeOffset.Now;
            await Task.Delay(300);

            Log.Logger = new LoggerConfiguration().WriteTo.Sink(events).CreateLogger();
            Assert.Empty(events.All);
            note.LogReady();
            note.Landed("000000010000000000000008");

            var line = Assert.Single(events.All);
            Assert.InRange(line.Timestamp, before, landedBy);
            Assert.StartsWith("first segment {Segment} fetched into the spool ", line.MessageTemplate.Text, StringComparison.Ordinal);
            Assert.Equal("000000010000000000000007", Assert.IsType<ScalarValue>(line.Properties["Segment"]).Value);
        }
        finally
        {
            Log.Logger = previous;
        }
    }

    [Fact]
    public void A_segment_that_lands_once_the_log_exists_is_logged_at_once()
    {
        var previous = Log.Logger;
        var events = new Collected();
        try
        {
            Log.Logger = new LoggerConfiguration().WriteTo.Sink(events).CreateLogger();
            var note = new FirstSegmentNote(new StartupTimeline());
            note.LogReady();
            Assert.Empty(events.All);
            note.Landed("00000002000000000000000A");
            note.Landed("00000002000000000000000B");
            Assert.Equal("00000002000000000000000A", Assert.IsType<ScalarValue>(Assert.Single(events.All).Properties["Segment"]).Value);
        }
        finally
        {
            Log.Logger = previous;
        }
    }

    private sealed class Collected : ILogEventSink
    {
        private readonly List<LogEvent> _events = [];

        public IReadOnlyList<LogEvent> All
        {
            get
            {
                lock (_events) return [.. _events];
            }
        }

        public void Emit(LogEvent logEvent)
        {
            lock (_events) _events.Add(logEvent);
        }
    }
}

/// <summary>Tests that set Serilog's global <see cref="Log.Logger"/> run one at a time.</summary>
[CollectionDefinition(nameof(GlobalLogCollection), DisableParallelization = true)]
public sealed class GlobalLogCollection;
