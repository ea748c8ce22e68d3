using Akka.Actor;
using Akka.Event;
using DataSync.Core.Verify;
using DataSync.Messages.Control;
using Npgsql;

namespace DataSync.Actors.Control;

/// <summary>
/// The daemon's side of <c>datasync verify</c>: starts a <see cref="VerifyJob"/> for a <see cref="VerifyRequest"/> (one at a
/// time: each holds a table and runs a restore), answers the CLI's progress requests from it, and tells the sync supervisor
/// each time a table is released so the stream picks it up again at once. The work is the job's; this actor only routes.
/// Requests reach it from the control endpoint, which has checked their token proof.
/// </summary>
public sealed class Verifier : ReceiveActor
{
    public const string Name = "verifier";

    // A finished job's verdict waits this long for the CLI to fetch it.
    private static readonly TimeSpan KeepFinished = TimeSpan.FromHours(1);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, (VerifyJob Job, DateTimeOffset? Finished)> _jobs = new(StringComparer.Ordinal);
    private VerifyJob? _running;

    public Verifier(TableVerifier verifier, NpgsqlDataSource local, IActorRef? tableListListener)
    {
        Receive<VerifyRequest>(request =>
        {
            Forget();
            if (_running is not null)
            {
                Sender.Tell(ControlReply.Failed(1, $"a verify is already running (job {_running.Id}); wait for it to finish, then run datasync verify again"));
                return;
            }

            var job = new VerifyJob(Guid.NewGuid().ToString("N"));
            _running = job;
            _jobs[job.Id] = (job, null);
            _log.Info("verify {Job} of {Tables}{Repair} started", job.Id, request.Tables.Count == 0 ? "every synced table" : string.Join(", ", request.Tables),
                request.Repair ? " with repair" : "");
            var self = Self;
            job.RunAsync(verifier, local, request.Tables, request.Repair, null, () => tableListListener?.Tell(TableListChanged.Instance), CancellationToken.None)
                .PipeTo(self, success: reply => new JobFinished(job, reply), failure: e => new JobFinished(job, ControlReply.Failed(1, e.GetBaseException().Message)));
            Sender.Tell(new VerifyStarted(job.Id));
        });
        Receive<VerifyProgressRequest>(request =>
        {
            Sender.Tell(_jobs.TryGetValue(request.Job, out var entry)
                ? entry.Job.Reply()
                : new VerifyProgressReply(request.Job, null, null, null, 0, null, 0, 0,
                    ControlReply.Failed(1, $"the daemon knows no verify job {request.Job} (it restarted, or the job finished more than an hour ago); run datasync verify again")));
        });
        Receive<JobFinished>(done =>
        {
            done.Job.Finish(done.Reply);
            _jobs[done.Job.Id] = (done.Job, DateTimeOffset.UtcNow);
            if (ReferenceEquals(_running, done.Job)) _running = null;
            // Released tables resume at the stream's next pass; a failure outside the tables may have left one held until now.
            tableListListener?.Tell(TableListChanged.Instance);
            _log.Info("verify {Job} finished (exit {Code}): {Lines}", done.Job.Id, done.Reply.ExitCode, string.Join(" | ", done.Reply.Output.Concat(done.Reply.Errors)));
        });
    }

    public static Props Props(TableVerifier verifier, NpgsqlDataSource local, IActorRef? tableListListener) =>
        Akka.Actor.Props.Create(() => new Verifier(verifier, local, tableListListener));

    private void Forget()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var old in _jobs.Where(j => j.Value.Finished is { } at && now - at > KeepFinished).Select(j => j.Key).ToList()) _jobs.Remove(old);
    }

    private sealed record JobFinished(VerifyJob Job, ControlReply Reply);
}
