using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Logger.Serilog;
using Akka.Remote.Hosting;
using DataSync.Actors.Serialization;
using DataSync.Core.Configuration;
using DataSync.Core.Local;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DataSync.Actors.Hosting;

/// <summary>
/// The daemon's actor system with its loopback remoting, started on a thread of its own as soon as the settings are
/// read. Building and starting it takes about a third of a second (mostly the JIT compiling Akka's start-up), and
/// nothing in it needs the local database: it starts while the daemon connects, migrates and takes the daemon lock,
/// and the actors are made in it once those are done (<see cref="ReadyAsync"/>). A restarted daemon's backlog starts
/// moving that much sooner.
/// </summary>
/// <remarks>
/// Disposing it stops the host whatever state it reached: a start that fails after this point (another daemon holds the
/// lock, the migration failed) leaves no remoting listening.
/// </remarks>
internal sealed class ActorHostStart : IAsyncDisposable
{
    private readonly Task<IHost> _starting;
    private readonly Stopwatch _took;
    private bool _stopped;

    private ActorHostStart(Task<IHost> starting, Stopwatch took)
    {
        _starting = starting;
        _took = took;
    }

    /// <param name="hocon">The daemon's Akka settings (<see cref="DataSyncHocon.Load"/>), already checked.</param>
    public static ActorHostStart Begin(DataSyncSettings settings, Config hocon, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        return new ActorHostStart(Task.Run(async () =>
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(60));
            builder.Services.AddAkka(DaemonHost.ActorSystemName, akka =>
            {
                akka.AddHocon(hocon, HoconAddMode.Prepend)
                    .AddSetup(NetworkInboundGuard.Setup())
                    .AddHocon(JournalHocon.Settings, HoconAddMode.Prepend)
                    .AddSetup(JournalHocon.Connection(LocalDatabase.ConnectionString(settings, "datasync-journal")))
                    .WithRemoting("127.0.0.1", settings.ControlPort)
                    .ConfigureLoggers(loggers =>
                    {
                        loggers.ClearLoggers();
                        loggers.AddLogger<SerilogLogger>();
                    });
            });
            var host = builder.Build();
            try
            {
                await host.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                host.Dispose();
                throw;
            }

            clock.Stop();
            return host;
        }, cancellationToken), clock);
    }

    /// <summary>How long building and starting the host took (on its own thread, beside the daemon's other start-up work).</summary>
    public TimeSpan StartTook => _took.Elapsed;

    /// <summary>The started actor system and the host's lifetime, once the start is done; the start's failure, if it failed.</summary>
    public async Task<(ActorSystem System, IHostApplicationLifetime Lifetime)> ReadyAsync()
    {
        var host = await _starting.ConfigureAwait(false);
        return (host.Services.GetRequiredService<ActorSystem>(), host.Services.GetRequiredService<IHostApplicationLifetime>());
    }

    /// <summary>Stops the actor system (its actors, remoting) and waits for it; once only, the rest are no-ops.</summary>
    public async Task StopAsync()
    {
        if (_stopped) return;
        _stopped = true;
        IHost host;
        try
        {
            host = await _starting.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // It never started; the failure is the start's to report, where it is awaited.
            return;
        }

        try
        {
            await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            host.Dispose();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}
