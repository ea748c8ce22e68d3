namespace DataSync.Core.IO;

/// <summary>
/// Copies a download to a file and stops at a ceiling: a remote or compressed file larger than its format (or its
/// listing) allows is refused before it fills the disk.
/// </summary>
public static class BoundedCopy
{
    /// <param name="source">Names the file in the error.</param>
    /// <exception cref="InvalidDataException">More than <paramref name="limit"/> bytes.</exception>
    public static async Task<long> CopyAsync(Stream input, Stream output, long limit, string source, CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += read;
            if (total > limit)
                throw new InvalidDataException($"{source} is larger than {limit} bytes, more than it can be; refused");
            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
        }

        return total;
    }
}
