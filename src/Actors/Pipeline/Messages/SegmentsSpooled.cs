namespace DataSync.Actors.Pipeline;

/// <summary>The archive watcher brought segments into the spool (or found none, or a gap): the stream may have work.</summary>
internal sealed record SegmentsSpooled(int Fetched, string? MissingSegment);
