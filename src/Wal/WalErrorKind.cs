namespace DataSync.Wal;

/// <summary>What is wrong with a piece of WAL input; see <see cref="WalFormatException"/>.</summary>
public enum WalErrorKind
{
    /// <summary>A file ends before a segment, page or record does.</summary>
    Truncated,
    /// <summary>A page does not start with the PostgreSQL 18 WAL magic 0xD118.</summary>
    BadMagic,
    /// <summary>A page header's flags, sizes or system identifier do not fit.</summary>
    BadPageHeader,
    /// <summary>A page header claims a different WAL position than where it sits (a stale or misplaced page).</summary>
    BadPageAddress,
    /// <summary>A record's CRC-32C does not match its contents.</summary>
    BadCrc,
    /// <summary>Segments are missing between two given files, or WAL ends before later files begin.</summary>
    Gap,
    /// <summary>A file or page belongs to another timeline than the one being read.</summary>
    UnexpectedTimeline,
    /// <summary>A record length is below the header size or beyond what PostgreSQL can write.</summary>
    BadLength,
    /// <summary>A record header field is invalid (resource manager, previous-record link).</summary>
    BadRecordHeader,
    /// <summary>The block references or data headers inside a record do not add up.</summary>
    BadBlockReference,
    /// <summary>A continuation page does not continue the record being assembled.</summary>
    BadContinuation,
    /// <summary>A full-page image cannot be restored (bad hole, bad compressed data).</summary>
    BadImage,
    /// <summary>A file name is not a WAL segment, history or backup file name.</summary>
    BadFileName,
    /// <summary>A compressed file is corrupt or uses a format the reader does not know.</summary>
    BadCompression,
    /// <summary>A typed record's main data or block data is shorter or longer than its layout requires.</summary>
    BadRecordData,
    /// <summary>The file cannot be read at all (permissions, I/O error).</summary>
    Unreadable,
}
