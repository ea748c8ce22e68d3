namespace DataSync.Messages.Pipeline;

/// <summary>The archive watcher brought segments into the spool (or found none, or a gap): the stream may have work.</summary>
public sealed record SegmentsSpooled(int Fetched, string? MissingSegment);
