using System.Buffers.Binary;

namespace DataSync.Core.Bootstrap;

/// <summary>
/// The server limits production ran with, read from the backup's <c>global/pg_control</c>. A hot
/// standby refuses to replay WAL written with larger limits than its own, so the temporary restore
/// must be configured with at least these.
/// </summary>
/// <remarks>
/// Offsets of ControlFileData in PostgreSQL 18 (pg_control_version 1800), checked against a live
/// 18.1 cluster started with distinctive values: wal_level at 172, MaxConnections at 180,
/// max_worker_processes at 184, max_wal_senders at 188, max_prepared_xacts at 192,
/// max_locks_per_xact at 196, all 32-bit little-endian; then, after the alignment and float-format checks and the
/// data block and relation segment sizes, the WAL page size at 224 and the WAL segment size at 228.
/// </remarks>
public sealed record ControlFileSettings(int WalLevel, int MaxConnections, int MaxWorkerProcesses, int MaxWalSenders, int MaxPreparedTransactions, int MaxLocksPerTransaction,
    uint WalSegmentSize = 16 * 1024 * 1024)
{
    public const uint SupportedControlVersion = 1800;

    /// <summary>PostgreSQL's wal_level enum value for <c>logical</c>.</summary>
    public const int LogicalWalLevel = 2;

    public static ControlFileSettings Read(string pgControlPath)
    {
        var bytes = File.ReadAllBytes(pgControlPath);
        if (bytes.Length < 200)
            throw new InvalidDataException($"{pgControlPath} is {bytes.Length} bytes, too short for a pg_control file");
        var version = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        if (version != SupportedControlVersion)
        {
            throw new InvalidDataException(
                $"{pgControlPath} has pg_control version {version}; this tool reads PostgreSQL 18 ({SupportedControlVersion}) backups");
        }

        int At(int offset) => BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(offset));
        var walPageSize = (uint)At(224);
        var walSegmentSize = (uint)At(228);
        if (!Wal.Pages.WalPageHeader.IsValidPageSize(walPageSize) || !Wal.Pages.WalPageHeader.IsValidSegmentSize(walSegmentSize))
            throw new InvalidDataException($"{pgControlPath} gives WAL page size {walPageSize} and segment size {walSegmentSize}, which PostgreSQL does not allow: the file is damaged");
        return new ControlFileSettings(At(172), At(180), At(184), At(188), At(192), At(196), walSegmentSize);
    }
}
