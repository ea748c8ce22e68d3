using DataSync.Wal.Records;

namespace DataSync.Messages.Pipeline;

/// <summary>Asks a WAL decoder to read, check and frame one spooled segment; answered with <see cref="SegmentFramed"/>.</summary>
public sealed record FrameSegment(string SegmentName);

/// <summary>
/// A framed segment. It holds pooled buffers and passes to exactly one owner (the ordered stage), so it
/// only ever travels between actors of one process and is never serialized.
/// </summary>
public sealed record SegmentFramed(FramedSegment Segment);
