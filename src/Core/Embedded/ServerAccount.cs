namespace DataSync.Core.Embedded;

/// <summary>
/// The operating-system account PostgreSQL server processes run as. PostgreSQL refuses to run as
/// root, so a tool running as root starts its servers through <c>runuser</c> as an unprivileged
/// account; a tool running as anyone else starts them as itself.
/// </summary>
public sealed class ServerAccount
{
    private ServerAccount(string? userName) => UserName = userName;

    /// <summary>The account to switch to, or null when the servers run as the current user.</summary>
    public string? UserName { get; }

    public bool SwitchesUser => UserName is not null;

    public static ServerAccount Current { get; } = new(null);

    /// <summary>
    /// The account to use: the current one when it is not root, otherwise <paramref name="userWhenRoot"/>
    /// (which must be set then, since PostgreSQL refuses root).
    /// </summary>
    public static ServerAccount For(string? userWhenRoot)
    {
        if (!Environment.IsPrivilegedProcess) return Current;
        if (string.IsNullOrWhiteSpace(userWhenRoot))
        {
            throw new InvalidOperationException(
                "running as root: PostgreSQL refuses to run as root, so an unprivileged OS user to run it as must be named (PG_OS_USER)");
        }

        return new ServerAccount(userWhenRoot);
    }

    /// <summary>
    /// When running as root, creates the account if it does not exist yet (a system account with a
    /// home, unlocked so tools that refuse locked accounts accept it). Used by the test rig and the demo;
    /// the daemon expects PG_OS_USER to exist.
    /// </summary>
    public async Task EnsureExistsAsync(CancellationToken cancellationToken = default)
    {
        if (UserName is null) return;
        var probe = await ProcessRunner.RunAsync("id", ["-u", UserName], cancellationToken: cancellationToken).ConfigureAwait(false);
        if (probe.ExitCode == 0) return;
        var created = await ProcessRunner.RunAsync("useradd", ["--create-home", "--shell", "/bin/sh", UserName], cancellationToken: cancellationToken).ConfigureAwait(false);
        // Another process may have created it in between; only a still-missing account is an error.
        if (created.ExitCode != 0 &&
            (await ProcessRunner.RunAsync("id", ["-u", UserName], cancellationToken: cancellationToken).ConfigureAwait(false)).ExitCode != 0)
        {
            throw new InvalidOperationException($"cannot create OS user '{UserName}': {created.StandardError.Trim()}");
        }

        await ProcessRunner.RunAsync("usermod", ["-p", "*", UserName], cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Gives a folder (recursively) to the account, so the server may write there.</summary>
    public async Task TakeOwnershipAsync(string path, CancellationToken cancellationToken = default)
    {
        if (UserName is null) return;
        await ProcessRunner.RunCheckedAsync("chown", ["-R", $"{UserName}:", path], cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs a program as this account.</summary>
    public Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, CancellationToken cancellationToken = default) =>
        UserName is null
            ? ProcessRunner.RunCheckedAsync(fileName, arguments, environment, cancellationToken: cancellationToken)
            : ProcessRunner.RunCheckedAsync("runuser", ["-u", UserName, "--", fileName, .. arguments], environment, cancellationToken: cancellationToken);

    /// <summary>True when the account may read and execute <paramref name="executable"/> (every parent folder searchable).</summary>
    public async Task<bool> CanExecuteAsync(string executable, CancellationToken cancellationToken = default)
    {
        if (UserName is null) return File.Exists(executable);
        var result = await ProcessRunner.RunAsync("runuser", ["-u", UserName, "--", "test", "-x", executable], cancellationToken: cancellationToken).ConfigureAwait(false);
        return result.ExitCode == 0;
    }

    public override string ToString() => UserName ?? Environment.UserName;
}
