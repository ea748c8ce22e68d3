using System.Globalization;
using System.Text;
using DataSync.Wal.Records;

namespace DataSync.Wal.Dump;

/// <summary>
/// <c>datasync waldump FILE... [--relfilenode N] [--xid N]</c>: one line per WAL record, in the
/// spirit of pg_waldump.
/// </summary>
/// <remarks>
/// Line format, fields separated by single spaces:
/// <c>LSN RMGR TYPE XID len=TOTAL prev=LSN [main=N] [blkref #ID: rel SPC/DB/REL fork FORK blk N [fpw N[ pglz|lz4|zstd][ hole OFF+LEN]] [data N] [will-init]]...</c>.
/// The first four fields are named exactly as pg_walinspect's pg_get_wal_records_info names them
/// (start_lsn, resource_manager, record_type, xid), so the two can be compared line by line. The end of
/// the input (and why it ended) goes to stderr, so stdout holds records only.
/// </remarks>
public static class WalDump
{
    public const int ExitOk = 0;
    public const int ExitBadInput = 1;
    public const int ExitUsage = 2;

    /// <summary>Dumps the records of <paramref name="files"/> (any order; sorted by segment name).</summary>
    /// <returns>0 when all valid WAL was read; 1 on bad input, after a message naming file, offset and LSN on stderr; 2 when no files were given.</returns>
    public static int Run(IReadOnlyList<string> files, WalDumpFilter filter, TextWriter stdout, TextWriter stderr)
    {
        if (files.Count == 0)
        {
            stderr.WriteLine("waldump: give one or more WAL segment files");
            return ExitUsage;
        }

        var line = new StringBuilder(256);
        long printed = 0;
        try
        {
            var missing = files.FirstOrDefault(f => !File.Exists(f));
            if (missing is not null)
                throw new WalFormatException(WalErrorKind.Unreadable, Path.GetFileName(missing), -1, Lsn.Invalid, $"no such file: {missing}");

            using var reader = WalRecordReader.OpenFiles(files);
            while (reader.MoveNext())
            {
                var record = reader.Current;
                if (!Matches(record, filter)) continue;
                line.Clear();
                Format(record, line);
                stdout.WriteLine(line);
                printed++;
            }

            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"waldump: {printed} records; valid WAL ends at {reader.EndLsn} ({reader.End})"));
            return ExitOk;
        }
        catch (WalFormatException e)
        {
            stdout.Flush();
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"waldump: {printed} records, then: {e.Message}"));
            return ExitBadInput;
        }
    }

    public static bool Matches(WalRecord record, WalDumpFilter filter)
    {
        if (filter.Xid is { } xid && record.Xid != xid) return false;
        if (filter.RelFileNode is { } relNumber)
        {
            foreach (var block in record.Blocks)
                if (block.Relation.RelNumber == relNumber) return true;
            return false;
        }

        return true;
    }

    /// <summary>Appends one record's line (without the newline).</summary>
    public static void Format(WalRecord record, StringBuilder line)
    {
        var c = CultureInfo.InvariantCulture;
        line.Append(record.Lsn.ToString()).Append(' ')
            .Append(record.RmgrName).Append(' ')
            .Append(record.RecordType).Append(' ')
            .Append(record.Xid.ToString(c))
            .Append(" len=").Append(record.TotalLength.ToString(c))
            .Append(" prev=").Append(record.PrevLsn.ToString());
        if (record.MainDataLength > 0) line.Append(" main=").Append(record.MainDataLength.ToString(c));
        if (record.TopLevelXid != 0) line.Append(" toplevel-xid=").Append(record.TopLevelXid.ToString(c));
        if (record.HasOrigin) line.Append(" origin=").Append(record.Origin.ToString(c));
        foreach (var block in record.Blocks)
        {
            line.Append(" blkref #").Append(block.BlockId.ToString(c))
                .Append(": rel ").Append(block.Relation.ToString())
                .Append(" fork ").Append(ForkName(block.Fork))
                .Append(" blk ").Append(block.BlockNumber.ToString(c));
            if (block.HasImage)
            {
                line.Append(" fpw ").Append(block.ImageLength.ToString(c));
                if (block.Compression != ImageCompression.None) line.Append(' ').Append(block.Compression.ToString().ToLowerInvariant());
                if (block.HoleLength > 0) line.Append(" hole ").Append(block.HoleOffset.ToString(c)).Append('+').Append(block.HoleLength.ToString(c));
            }

            if (block.HasData) line.Append(" data ").Append(block.DataLength.ToString(c));
            if (block.WillInit) line.Append(" will-init");
        }
    }

    private static string ForkName(ForkNumber fork) => fork switch
    {
        ForkNumber.Main => "main",
        ForkNumber.FreeSpaceMap => "fsm",
        ForkNumber.VisibilityMap => "vm",
        ForkNumber.Init => "init",
        _ => ((int)fork).ToString(CultureInfo.InvariantCulture),
    };
}
