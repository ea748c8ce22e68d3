using Npgsql;

namespace DataSync.Core.Bootstrap;

/// <summary>
/// Opens production's database on the temporary restore, turning the server's refusal of a database whose locale this
/// machine lacks ("database locale is incompatible with operating system") into an error that names the locale and
/// how to install it. The restore runs with this machine's C library, so production's libc locales must exist here.
/// </summary>
public static class ProductionLocale
{
    public static async Task<NpgsqlConnection> OpenAsync(Func<string, Task<NpgsqlConnection>> open, string database)
    {
        try
        {
            return await open(database).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.MessageText.Contains("locale is incompatible with operating system", StringComparison.Ordinal))
        {
            // The server's detail may be redacted on the client: the locales are read from pg_database instead.
            var locales = await LocalesAsync(open, database).ConfigureAwait(false);
            var locale = locales.FirstOrDefault(l => l != "C" && l != "POSIX" && !l.StartsWith("C.", StringComparison.Ordinal)) ?? "(unknown)";
            var dot = locale.IndexOf('.', StringComparison.Ordinal);
            var install = dot > 0
                ? $"on Debian or Ubuntu add \"{locale} {locale[(dot + 1)..]}\" to /etc/locale.gen and run locale-gen, or run: localedef -i {locale[..dot]} -f {locale[(dot + 1)..]} {locale}"
                : $"install it with your system's locale tools (localedef -i {locale} ...)";
            throw new InvalidOperationException(
                $"production's database '{database}' uses the locale \"{locale}\" (LC_COLLATE/LC_CTYPE: {string.Join(", ", locales.Distinct())}), which this machine " +
                $"does not have, so the temporary restore cannot open it; install the locale here ({install}), then restart the daemon", e);
        }
    }

    /// <summary>The database's LC_COLLATE and LC_CTYPE, read through another database of the restore (empty when none opens).</summary>
    private static async Task<List<string>> LocalesAsync(Func<string, Task<NpgsqlConnection>> open, string database)
    {
        foreach (var other in new[] { "postgres", "template1" })
        {
            try
            {
                await using var connection = await open(other).ConfigureAwait(false);
                await using var command = new NpgsqlCommand("SELECT datcollate::text, datctype::text FROM pg_database WHERE datname = $1", connection);
                command.Parameters.AddWithValue(database);
                await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
                return await reader.ReadAsync().ConfigureAwait(false) ? [reader.GetString(0), reader.GetString(1)] : [];
            }
            catch (Exception e) when (e is PostgresException or NpgsqlException or InvalidOperationException)
            {
                // That database is missing or has the same locale: try the next.
            }
        }

        return [];
    }
}
