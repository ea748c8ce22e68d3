using System.Globalization;

namespace DataSync.Wal.Segments;

/// <summary>
/// The name of a WAL segment file, <c>TTTTTTTTLLLLLLLLSSSSSSSS</c> (timeline, then the segment number
/// split into a high "log" part and a low part; src/include/access/xlog_internal.h XLogFileName),
/// optionally with <c>.partial</c> and/or a compression suffix an archive_command added.
/// </summary>
/// <remarks>
/// The low part counts segments within one 4 GiB "log" file, so turning a name into a segment
/// number needs the segment size, which only the long page header carries.
/// </remarks>
public readonly record struct WalSegmentName(uint Timeline, uint Log, uint Seg, bool IsPartial, string CompressionSuffix)
{
    public const int HexLength = 24;

    /// <summary>Segment number counted from the start of WAL, for a given segment size.</summary>
    public ulong SegmentNumber(uint segmentSize) => (ulong)Log * SegmentsPerLog(segmentSize) + Seg;

    public Lsn StartLsn(uint segmentSize) => new(SegmentNumber(segmentSize) * segmentSize);

    /// <summary>The 24 hex digits alone.</summary>
    public string BaseName => string.Create(CultureInfo.InvariantCulture, $"{Timeline:X8}{Log:X8}{Seg:X8}");

    public override string ToString() => BaseName + (IsPartial ? ".partial" : "") + CompressionSuffix;

    public static ulong SegmentsPerLog(uint segmentSize) => 0x1_0000_0000UL / segmentSize;

    public static string Format(uint timeline, ulong segmentNumber, uint segmentSize)
    {
        var perLog = SegmentsPerLog(segmentSize);
        return string.Create(CultureInfo.InvariantCulture, $"{timeline:X8}{(uint)(segmentNumber / perLog):X8}{(uint)(segmentNumber % perLog):X8}");
    }

    /// <summary>
    /// The segment that holds the WAL position <paramref name="lsn"/> when it is where reading starts (a record's
    /// start, a restart point): a position exactly at a segment boundary belongs to the segment that begins there.
    /// </summary>
    public static string OfStart(uint timeline, Lsn lsn, uint segmentSize) => Format(timeline, lsn.Value / segmentSize, segmentSize);

    /// <summary>
    /// The segment whose WAL ends at <paramref name="lsn"/> when it is an end position (the end of the last
    /// record replayed, as <c>pg_last_wal_replay_lsn()</c> reports it): a position exactly at a segment boundary
    /// is the end of the segment before, which is the last one read; the segment starting there may not exist yet.
    /// </summary>
    public static string OfEnd(uint timeline, Lsn lsn, uint segmentSize) =>
        Format(timeline, lsn.Value == 0 ? 0 : (lsn.Value - 1) / segmentSize, segmentSize);

    /// <summary>Accepts <c>24HEX</c>, <c>24HEX.partial</c>, and either followed by <c>.gz</c>, <c>.zst</c> or <c>.lz4</c>. Upper-case hex only, as PostgreSQL writes it.</summary>
    public static bool TryParse(ReadOnlySpan<char> fileName, out WalSegmentName name)
    {
        name = default;
        if (fileName.Length < HexLength) return false;
        var hex = fileName[..HexLength];
        foreach (var c in hex)
            if (!char.IsAsciiDigit(c) && c is < 'A' or > 'F') return false;
        var rest = fileName[HexLength..];
        var partial = false;
        if (rest.StartsWith(".partial", StringComparison.Ordinal))
        {
            partial = true;
            rest = rest[".partial".Length..];
        }

        var compression = rest switch
        {
            "" => "",
            ".gz" => ".gz",
            ".zst" => ".zst",
            ".lz4" => ".lz4",
            _ => null,
        };
        if (compression is null) return false;
        name = new WalSegmentName(
            uint.Parse(hex[..8], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture),
            uint.Parse(hex[8..16], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture),
            uint.Parse(hex[16..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture),
            partial,
            compression);
        return true;
    }
}
