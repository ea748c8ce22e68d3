using System.Text;

namespace DataSync.Core.IO;

/// <summary>
/// Reads a small text file from input (a backup_label, a timeline history file) with a ceiling on its size,
/// counted after decompression: a file, or a compressed one that inflates, past what its format can hold is
/// refused before it costs memory.
/// </summary>
public static class BoundedText
{
    /// <summary>backup_label holds a dozen short lines; 64 KiB is far past any real one.</summary>
    public const int BackupLabelLimit = 64 * 1024;

    /// <summary>
    /// A history file gains one line (under 100 bytes) per timeline switch; 4 MiB allows tens of thousands
    /// of promotions, more than any cluster makes.
    /// </summary>
    public const int HistoryFileLimit = 4 * 1024 * 1024;

    /// <param name="source">Names the file in the error.</param>
    /// <exception cref="InvalidDataException">More than <paramref name="limit"/> bytes.</exception>
    public static async Task<string> ReadAsync(Stream stream, int limit, string source, CancellationToken cancellationToken)
    {
        var buffer = new byte[Math.Min(limit + 1, 64 * 1024)];
        using var collected = new MemoryStream();
        while (true)
        {
            var read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0) break;
            if (collected.Length + read > limit)
                throw TooLarge(limit, source);
            collected.Write(buffer, 0, read);
        }

        return Encoding.UTF8.GetString(collected.GetBuffer(), 0, (int)collected.Length);
    }

    /// <inheritdoc cref="ReadAsync"/>
    public static string Read(Stream stream, int limit, string source)
    {
        var buffer = new byte[Math.Min(limit + 1, 64 * 1024)];
        using var collected = new MemoryStream();
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            if (collected.Length + read > limit) throw TooLarge(limit, source);
            collected.Write(buffer, 0, read);
        }

        return Encoding.UTF8.GetString(collected.GetBuffer(), 0, (int)collected.Length);
    }

    private static InvalidDataException TooLarge(int limit, string source) =>
        new($"{source} is larger than {limit} bytes (after decompression), more than such a file can be; refused");
}
