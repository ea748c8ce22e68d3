using Akka.Actor;
using DataSync.Core.Archive;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// One decoder of the pool: reads a spooled segment, checks every page and record CRC and frames the
/// records that begin in it (<see cref="SegmentFramer"/>), so several segments are decoded at once; the
/// live stream puts them back in order before reassembly. Bad WAL is not thrown here: it travels inside
/// the framed segment and surfaces in order, where the sequential reader would have raised it.
/// </summary>
internal sealed class WalDecoder : ReceiveActor
{
    public const string PoolName = "wal-decoders";

    public WalDecoder(SegmentFramer framer, WalSpool spool)
    {
        Receive<FrameSegment>(frame =>
        {
            frame.Inbox.Deposit(frame.Request, framer.With(frame.Request.Options).Frame(spool.Source(frame.Request.SegmentName)));
            Sender.Tell(new SegmentFramed(frame.Request));
        });
    }

    public static Props Props(SegmentFramer framer, WalSpool spool) => Akka.Actor.Props.Create(() => new WalDecoder(framer, spool));
}
