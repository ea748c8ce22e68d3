using DataSync.Wal.Records;

namespace DataSync.Core.Sync;

/// <summary>
/// A spooled segment the live stream wants framed next, with the reader options of its decoder (the timeline
/// followed and its history, so an older timeline's copy is framed only to where that timeline ended).
/// <paramref name="Epoch"/> names the decoder it is for: a segment framed for a decoder since rebuilt is dropped.
/// <paramref name="Sequence"/> is its place among the segments asked for that decoder (what puts them back in order).
/// </summary>
public sealed record SegmentRequest(string SegmentName, WalReaderOptions Options, long Epoch, long Sequence);
