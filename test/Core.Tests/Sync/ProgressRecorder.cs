namespace DataSync.Core.Tests.Sync;

/// <summary>Keeps the progress lines an engine reports, safely across threads.</summary>
internal sealed class ProgressRecorder : IProgress<string>
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines) return [.. _lines];
        }
    }

    public void Report(string value)
    {
        lock (_lines) _lines.Add(value);
    }
}
