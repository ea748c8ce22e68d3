using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DataSync.Core.IO;
using DataSync.Wal;
using DataSync.Wal.Checksums;

namespace DataSync.Core.Bootstrap;

/// <summary>
/// Checks a restored backup against its <c>backup_manifest</c> (the JSON file pg_basebackup writes: a
/// <c>Files</c> array of Path or Encoded-Path, Size, Checksum-Algorithm and Checksum, ending with a
/// <c>Manifest-Checksum</c> line, the SHA-256 of everything before that line). A file that is missing, of
/// another size or with another checksum is named in the error, and the restore is not used.
/// </summary>
internal static class BackupManifest
{
    /// <summary>A manifest gains a line of about 150 bytes per file; 64 MiB covers some 400,000 files.</summary>
    private const int SizeLimit = 64 * 1024 * 1024;

    /// <param name="tablespaceRoot">Where the files the manifest lists under pg_tblspc/&lt;oid&gt;/ were put.</param>
    public static void Verify(string manifestPath, string dataDirectory, string tablespaceRoot)
    {
        var bytes = Read(manifestPath);
        VerifyOwnChecksum(manifestPath, bytes);

        using var document = JsonDocument.Parse(bytes);
        if (!document.RootElement.TryGetProperty("Files", out var files) || files.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{manifestPath} has no Files array: not a backup manifest");
        var buffer = new byte[1 << 16];
        foreach (var file in files.EnumerateArray())
        {
            var path = file.TryGetProperty("Path", out var plain) ? plain.GetString()
                : file.TryGetProperty("Encoded-Path", out var encoded) ? Encoding.UTF8.GetString(Convert.FromHexString(encoded.GetString() ?? ""))
                : null;
            if (path is null || !file.TryGetProperty("Size", out var sizeElement) || !sizeElement.TryGetInt64(out var size))
                throw new InvalidDataException($"{manifestPath}: a Files entry without Path and Size");
            if (path.StartsWith("pg_wal/", StringComparison.Ordinal)) continue;
            var local = LocalPath(path, dataDirectory, tablespaceRoot, manifestPath);
            var info = new FileInfo(local);
            if (!info.Exists)
                throw new InvalidDataException($"base backup file '{path}' listed in {manifestPath} is missing; the backup is incomplete, take or copy it again");
            if (info.Length != size)
                throw new InvalidDataException($"base backup file '{path}' is {info.Length} bytes, but {manifestPath} says {size}; the backup is damaged, take or copy it again");
            var algorithm = file.TryGetProperty("Checksum-Algorithm", out var a) ? a.GetString() ?? "NONE" : "NONE";
            if (algorithm == "NONE" || !file.TryGetProperty("Checksum", out var expectedElement)) continue;
            var actual = Checksum(local, algorithm, buffer);
            if (actual is null) continue;
            if (!string.Equals(actual, expectedElement.GetString(), StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidDataException(
                    $"base backup file '{path}' does not match its {algorithm} checksum in {manifestPath}; the backup is damaged, take or copy it again");
            }
        }
    }

    /// <summary>
    /// Where the backup's WAL ends: the last <c>End-LSN</c> of the manifest's <c>WAL-Ranges</c>; null when it has none
    /// (or is not JSON: <see cref="Verify"/> names that when the restore is checked).
    /// </summary>
    public static Lsn? WalEnd(string manifestPath)
    {
        try
        {
            using var document = JsonDocument.Parse(Read(manifestPath));
            if (!document.RootElement.TryGetProperty("WAL-Ranges", out var ranges) || ranges.ValueKind != JsonValueKind.Array) return null;
            Lsn? end = null;
            foreach (var range in ranges.EnumerateArray())
            {
                if (range.TryGetProperty("End-LSN", out var value) && Lsn.TryParse(value.GetString(), out var lsn) && (end is null || lsn > end))
                    end = lsn;
            }

            return end;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static byte[] Read(string manifestPath)
    {
        var length = new FileInfo(manifestPath).Length;
        if (length > SizeLimit)
            throw new InvalidDataException($"{manifestPath} is {length} bytes, more than the {SizeLimit} this tool reads; refused");
        return File.ReadAllBytes(manifestPath);
    }

    private static string LocalPath(string path, string dataDirectory, string tablespaceRoot, string manifestPath)
    {
        const string links = "pg_tblspc/";
        if (path.StartsWith(links, StringComparison.Ordinal))
        {
            var slash = path.IndexOf('/', links.Length);
            if (slash > 0 && TablespaceLinks.IsTablespaceLinkName(path[..slash]))
                return ContainedPath.Resolve(tablespaceRoot, path[links.Length..], manifestPath);
        }

        return ContainedPath.Resolve(dataDirectory, path, manifestPath);
    }

    /// <summary>The manifest's last line carries the SHA-256 of all bytes before it (through the newline that ends the line before).</summary>
    private static void VerifyOwnChecksum(string manifestPath, byte[] bytes)
    {
        var end = bytes.Length;
        while (end > 0 && bytes[end - 1] == (byte)'\n') end--;
        var lastLineStart = Array.LastIndexOf(bytes, (byte)'\n', Math.Max(end - 1, 0)) + 1;
        var lastLine = Encoding.UTF8.GetString(bytes, lastLineStart, end - lastLineStart);
        const string key = "\"Manifest-Checksum\": \"";
        var at = lastLine.IndexOf(key, StringComparison.Ordinal);
        if (lastLineStart == 0 || at < 0)
            throw new InvalidDataException($"{manifestPath} does not end with a Manifest-Checksum line: not a whole backup manifest");
        var expected = lastLine[(at + key.Length)..].Split('"')[0];
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes.AsSpan(0, lastLineStart)));
        if (!string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{manifestPath} is damaged: its Manifest-Checksum is {expected}, its contents hash to {actual}");
    }

    /// <summary>The file's checksum as the manifest writes it (lower-case hex), or null for an algorithm this tool does not compute (SHA224).</summary>
    private static string? Checksum(string path, string algorithm, byte[] buffer)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        switch (algorithm)
        {
            case "CRC32C":
            {
                var running = Crc32C.Initial;
                int read;
                while ((read = stream.Read(buffer)) > 0) running = Crc32C.Append(running, buffer.AsSpan(0, read));
                // PostgreSQL writes the finished CRC's bytes in memory order: little-endian on the platforms it runs on.
                Span<byte> raw = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(raw, Crc32C.Finish(running));
                return Convert.ToHexStringLower(raw);
            }
            case "SHA256":
                return Convert.ToHexStringLower(SHA256.HashData(stream));
            case "SHA384":
                return Convert.ToHexStringLower(SHA384.HashData(stream));
            case "SHA512":
                return Convert.ToHexStringLower(SHA512.HashData(stream));
            default:
                return null;
        }
    }
}
