using DataSync.Core.Sync;
using DataSync.Wal.Records;

namespace DataSync.Actors.Pipeline;

/// <summary>Asks a WAL decoder to read, check and frame one spooled segment; answered with <see cref="SegmentFramed"/>.</summary>
internal sealed record FrameSegment(SegmentRequest Request);

/// <summary>
/// A framed segment, answering <paramref name="Request"/>. It holds pooled buffers and passes to exactly one owner (the
/// live stream), so it only travels between actors of one process and is never serialized.
/// </summary>
internal sealed record SegmentFramed(FramedSegment Segment, SegmentRequest Request);
