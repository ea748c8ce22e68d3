using DataSync.Core.Sync;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// Asks a WAL decoder to read, check and frame one spooled segment and leave it in <paramref name="Inbox"/> (the
/// stream's); answered with <see cref="SegmentFramed"/>. The framed segment's pooled memory never travels in a message.
/// </summary>
internal sealed record FrameSegment(SegmentRequest Request, FramedSegmentInbox Inbox);

/// <summary>The segment asked for by <paramref name="Request"/> is framed and waits in the stream's inbox.</summary>
internal sealed record SegmentFramed(SegmentRequest Request);
