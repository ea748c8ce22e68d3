using DataSync.Core.Configuration;
using DataSync.Core.Local;
using DataSync.Core.Schema;
using Npgsql;

namespace DataSync.Cli;

/// <summary>
/// What a command runs with: its output streams and environment (injectable, so tests run the CLI
/// in-process), and the settings and local database, loaded on first use.
/// </summary>
public sealed class CliContext(TextWriter stdout, TextWriter stderr, Func<string, string?> environment)
{
    private LoadedSettings? _settings;

    public TextWriter Out { get; } = stdout;
    public TextWriter Error { get; } = stderr;
    public Func<string, string?> Environment { get; } = environment;

    /// <summary>True when standard output is a terminal: long commands then redraw a progress bar instead of printing plain lines.</summary>
    public bool OutputIsTerminal { get; init; }

    /// <summary>The settings; loading prints the file's warnings once. Throws <see cref="ConfigurationException"/>.</summary>
    public DataSyncSettings Settings
    {
        get
        {
            if (_settings is null)
            {
                _settings = SettingsLoader.LoadFromEnvironment(Environment);
                foreach (var warning in _settings.Warnings) Error.WriteLine($"datasync: warning: {warning}");
            }

            return _settings.Settings;
        }
    }

    /// <summary>Opens the local database and brings the tool's schema up to date.</summary>
    public async Task<NpgsqlDataSource> OpenLocalDatabaseAsync(CancellationToken cancellationToken)
    {
        var dataSource = LocalDatabase.CreateDataSource(Settings, "datasync-cli");
        try
        {
            await new SchemaMigrator(dataSource).MigrateAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return dataSource;
    }

    public void Fail(string message) => Error.WriteLine($"datasync: {message}");
}
