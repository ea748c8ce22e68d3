using Akka.Actor;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// The checkpoint journals of one actor system that are between their start and their recovery, so that a stop
/// neither begins a journal nor cuts one short. The first journal to start makes Akka.Persistence.Sql set up its
/// journal and snapshot store (it creates their tables when missing); a stop that ends the actor system meanwhile
/// cancels that set-up, which the plugin reports at error level with a stack trace although nothing is lost (the
/// checkpoint that counts is the database's, committed with the rows). So once the stop has begun no journal
/// starts, and the stop waits, for a bounded time, for the ones already starting.
/// </summary>
internal sealed class JournalStarts : IExtension
{
    /// <summary>How long a stop waits for starting journals: a set-up on a loaded server takes seconds, not minutes.</summary>
    public static TimeSpan StopWaitsAtMost { get; } = TimeSpan.FromSeconds(10);

    private readonly CoordinatedShutdown _shutdown;
    private readonly object _gate = new();
    private int _starting;
    private TaskCompletionSource? _settled;

    public JournalStarts(ExtendedActorSystem system)
    {
        _shutdown = CoordinatedShutdown.Get(system);
        // Before the actors stop: the journals' set-up needs its actors and the plugin's until it answers.
        if (_shutdown.ShutdownReason is null)
            _shutdown.AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "checkpoint-journals-started", async () =>
            {
                await SettledAsync(StopWaitsAtMost).ConfigureAwait(false);
                return Akka.Done.Instance;
            });
    }

    public static JournalStarts Get(ActorSystem system) => system.WithExtension<JournalStarts, Id>();

    /// <summary>The journals between their start and their recovery now.</summary>
    public int Starting
    {
        get
        {
            lock (_gate) return _starting;
        }
    }

    /// <summary>False once a stop has begun: from then on no journal starts.</summary>
    public bool MayBegin
    {
        get
        {
            lock (_gate) return _shutdown.ShutdownReason is null && _settled is null;
        }
    }

    /// <summary>True when a journal may start now (and then counts as starting until <see cref="Ended"/>); false once a stop has begun.</summary>
    public bool TryBegin()
    {
        lock (_gate)
        {
            if (!MayBegin) return false;
            _starting++;
            return true;
        }
    }

    /// <summary>A journal that began has recovered, or was stopped before it did.</summary>
    public void Ended()
    {
        lock (_gate)
        {
            if (_starting == 0) return;
            _starting--;
            if (_starting == 0) _settled?.TrySetResult();
        }
    }

    /// <summary>Lets no more journals begin and waits until the ones starting have ended, or <paramref name="atMost"/> has passed.</summary>
    public async Task SettledAsync(TimeSpan atMost)
    {
        Task settled;
        lock (_gate)
        {
            _settled ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_starting == 0) _settled.TrySetResult();
            settled = _settled.Task;
        }

        try
        {
            await settled.WaitAsync(atMost).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The stop goes on: a journal that sets up for longer than this is cut short, and says so itself.
        }
    }

    private sealed class Id : ExtensionIdProvider<JournalStarts>
    {
        public override JournalStarts CreateExtension(ExtendedActorSystem system) => new(system);
    }
}
