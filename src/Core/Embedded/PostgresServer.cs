using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace DataSync.Core.Embedded;

/// <summary>
/// One PostgreSQL server process over one data directory, driven through initdb and pg_ctl:
/// the throwaway clusters of the tests and the demo, and the temporary restores of a base backup.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private bool _running;

    public PostgresServer(PostgresServerOptions options) => Options = options;

    public PostgresServerOptions Options { get; }

    public int Port => Options.Port;

    public string DataDirectory => Options.DataDirectory;

    public string LogFile => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(DataDirectory))!, Path.GetFileName(DataDirectory) + ".log");

    /// <summary>A loopback TCP port nobody listens on right now.</summary>
    public static int FindFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Creates the data directory with initdb and writes the configured settings.</summary>
    public async Task InitAsync(CancellationToken cancellationToken = default)
    {
        var parent = Path.GetDirectoryName(Path.GetFullPath(DataDirectory))!;
        Directory.CreateDirectory(parent);
        await Options.Account.TakeOwnershipAsync(parent, cancellationToken).ConfigureAwait(false);

        var arguments = new List<string>
        {
            "-D", DataDirectory, "-U", Options.Superuser, $"--encoding={Options.Encoding}", "--locale=C", "--no-sync",
        };
        if (Options.WalSegmentSizeMb is { } segmentSize) arguments.Add($"--wal-segsize={segmentSize.ToString(CultureInfo.InvariantCulture)}");
        if (Options.DataChecksums is { } checksums) arguments.Add(checksums ? "--data-checksums" : "--no-data-checksums");
        string? passwordFile = null;
        if (Options.SuperuserPassword is not null)
        {
            passwordFile = Path.Combine(parent, ".initdb-password");
            await File.WriteAllTextAsync(passwordFile, Options.SuperuserPassword, cancellationToken).ConfigureAwait(false);
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            await Options.Account.TakeOwnershipAsync(passwordFile, cancellationToken).ConfigureAwait(false);
            arguments.AddRange(["--auth=scram-sha-256", $"--pwfile={passwordFile}"]);
        }
        else
        {
            arguments.Add("--auth=trust");
        }

        try
        {
            await Options.Account.RunAsync(Options.Binaries.InitDb, arguments, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (passwordFile is not null) File.Delete(passwordFile);
        }

        await WriteSettingsAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Appends this server's port, socket, listen addresses and extra settings to postgresql.conf;
    /// later lines win in PostgreSQL's configuration files, so this also retargets a restored copy.
    /// </summary>
    public async Task WriteSettingsAsync(CancellationToken cancellationToken = default)
    {
        var conf = new StringBuilder();
        conf.AppendLine();
        conf.AppendLine("# written by datasync");
        conf.AppendLine(CultureInfo.InvariantCulture, $"port = {Port}");
        conf.AppendLine(CultureInfo.InvariantCulture, $"listen_addresses = {Quote(Options.ListenAddresses)}");
        conf.AppendLine(CultureInfo.InvariantCulture, $"unix_socket_directories = {Quote(Options.EffectiveSocketDirectory)}");
        foreach (var (key, value) in Options.Settings) conf.AppendLine(CultureInfo.InvariantCulture, $"{key} = {value}");
        var path = Path.Combine(DataDirectory, "postgresql.conf");
        await File.AppendAllTextAsync(path, conf.ToString(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Quotes a value for postgresql.conf.</summary>
    public static string Quote(string value) => "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await Options.Account.RunAsync(
                Options.Binaries.PgCtl,
                ["-D", DataDirectory, "-l", LogFile, "-w", "-t", "120", "start"],
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"{e.Message}\nserver log {LogFile}:\n{TailOfLog()}", e);
        }

        _running = true;
    }

    /// <summary>Stops the server; <paramref name="mode"/> is pg_ctl's: smart, fast or immediate.</summary>
    public async Task StopAsync(string mode = "fast", CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(DataDirectory) || !File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            _running = false;
            return;
        }

        await Options.Account.RunAsync(
            Options.Binaries.PgCtl, ["-D", DataDirectory, "-m", mode, "-w", "-t", "120", "stop"],
            cancellationToken: cancellationToken).ConfigureAwait(false);
        _running = false;
    }

    public string ConnectionString(string database = "postgres") =>
        new NpgsqlConnectionStringBuilder
        {
            Host = Options.ListenAddresses.Length == 0 ? Options.EffectiveSocketDirectory : "127.0.0.1",
            Port = Port,
            Username = Options.Superuser,
            Password = Options.SuperuserPassword,
            Database = database,
            Pooling = false,
            Timeout = 30,
            CommandTimeout = 600,
        }.ConnectionString;

    public async Task<NpgsqlConnection> OpenAsync(string database = "postgres", CancellationToken cancellationToken = default)
    {
        var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    public async Task ExecuteAsync(string sql, string database = "postgres", CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(database, cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<T> QueryScalarAsync<T>(string sql, string database = "postgres", CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(database, cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return (T)value!;
    }

    public string TailOfLog(int lines = 30)
    {
        try
        {
            return string.Join('\n', File.ReadLines(LogFile).TakeLast(lines));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_running)
        {
            try
            {
                await StopAsync("immediate").ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // Already gone; nothing left to stop.
            }
        }
    }
}
