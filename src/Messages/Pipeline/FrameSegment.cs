using DataSync.Wal.Records;

namespace DataSync.Messages.Pipeline;

/// <summary>
/// Asks a WAL decoder to read, check and frame one spooled segment; answered with <see cref="SegmentFramed"/>.
/// <paramref name="Options"/>: the reader options of the run (its timeline and history, so a copy of an older
/// timeline is framed only to its end), or null for the decoder's own.
/// </summary>
public sealed record FrameSegment(string SegmentName, WalReaderOptions? Options = null);

/// <summary>
/// A framed segment. It holds pooled buffers and passes to exactly one owner (the ordered stage), so it
/// only ever travels between actors of one process and is never serialized.
/// </summary>
public sealed record SegmentFramed(FramedSegment Segment);
