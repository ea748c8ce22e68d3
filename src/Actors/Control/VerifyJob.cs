using DataSync.Core.Tables;
using DataSync.Core.Verify;
using DataSync.Messages.Control;
using Npgsql;

namespace DataSync.Actors.Control;

/// <summary>
/// One <c>datasync verify</c> run: its tables verified one after the other by a <see cref="TableVerifier"/>, the latest
/// progress kept for whoever asks (the CLI polls it over the control channel), and at the end the verdict lines and
/// exit code: 0 when every table is identical to production (or was repaired to be), 1 otherwise. The same code serves
/// the daemon and the CLI without a daemon.
/// </summary>
public sealed class VerifyJob(string id) : IVerifyProgress
{
    private VerifyProgress? _latest;
    private ControlReply? _result;

    public string Id { get; } = id;

    public ControlReply? Result => Volatile.Read(ref _result);

    public void Report(VerifyProgress progress) => Volatile.Write(ref _latest, progress);

    /// <summary>What a progress request is answered with.</summary>
    public VerifyProgressReply Reply()
    {
        var latest = Volatile.Read(ref _latest);
        return new VerifyProgressReply(Id, latest?.Table, latest?.Phase.ToString().ToLowerInvariant(), latest?.Detail, latest?.RowsCompared ?? 0,
            latest?.RowsEstimated, latest?.PhaseElapsed.TotalSeconds ?? 0, latest?.Elapsed.TotalSeconds ?? 0, Result);
    }

    /// <summary>
    /// Verifies <paramref name="names"/> (every listed table when empty), reporting to <paramref name="progress"/> as well as to
    /// this job; <paramref name="released"/> is called after each table, once it syncs again.
    /// </summary>
    public async Task<ControlReply> RunAsync(TableVerifier verifier, NpgsqlDataSource local, IReadOnlyList<string> names, bool repair, IVerifyProgress? progress,
        Action? released, CancellationToken cancellationToken)
    {
        var (tables, errors) = await TableVerifier.ResolveAsync(local, names.Count == 0 ? [] : TableNameParser.ParseList(names), cancellationToken).ConfigureAwait(false);
        var output = new List<string>();
        var problems = new List<string>(errors);
        if (tables.Count == 0 && errors.Count == 0) output.Add("no tables are synced; nothing to verify");
        var identical = true;
        var both = new Both(this, progress);
        foreach (var table in tables)
        {
            var verdict = await verifier.VerifyAsync(table, repair, both, cancellationToken).ConfigureAwait(false);
            released?.Invoke();
            output.AddRange(verdict.Lines());
            if (verdict.Problem is not null) problems.Add($"{table} was not verified: {verdict.Problem}");
            identical &= verdict.Identical;
        }

        var reply = new ControlReply(identical && problems.Count == 0 ? 0 : 1, output, problems);
        Volatile.Write(ref _result, reply);
        return reply;
    }

    /// <summary>Ends the job with <paramref name="reply"/> (a failure outside any one table).</summary>
    public void Finish(ControlReply reply) => Volatile.Write(ref _result, reply);

    private sealed class Both(IVerifyProgress first, IVerifyProgress? second) : IVerifyProgress
    {
        public void Report(VerifyProgress progress)
        {
            first.Report(progress);
            second?.Report(progress);
        }
    }
}
