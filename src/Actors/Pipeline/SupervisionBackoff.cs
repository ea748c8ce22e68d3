using Akka.Actor;
using Akka.Pattern;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// The pause before a failed part of the pipeline starts again: <see cref="Min"/> after the first failure,
/// doubling with each failure that follows, at most <see cref="Max"/>, and each pause lengthened by a random
/// share of up to <see cref="RandomFactor"/> so that parts failing on one cause (the local database went away)
/// do not all come back at the same instant. Injectable so that specs run the same supervision in seconds.
/// </summary>
public sealed record SupervisionBackoff(TimeSpan Min, TimeSpan Max, double RandomFactor)
{
    /// <summary>The daemon's: one second, growing to two minutes, up to 20 % longer at random.</summary>
    public static SupervisionBackoff Default { get; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(2), 0.2);

    /// <summary>A supervisor that starts <paramref name="child"/> as <paramref name="childName"/> again after this backoff whenever it throws.</summary>
    public Props OnFailure(Props child, string childName) =>
        BackoffSupervisor.Props(Backoff.OnFailure(child, childName, Min, Max, RandomFactor, -1));

    /// <summary>
    /// A supervisor that starts <paramref name="child"/> again after this backoff whenever it stops (a persistent
    /// actor stops itself when its journal fails a write). Messages sent to the supervisor go to the child.
    /// </summary>
    public Props OnStop(Props child, string childName) =>
        BackoffSupervisor.Props(Backoff.OnStop(child, childName, Min, Max, RandomFactor, -1));
}
