namespace DataSync.Cli.Progress;

/// <summary>What a <see cref="ProgressFrame"/> counts.</summary>
public enum ProgressUnit
{
    /// <summary>Nothing countable (a phase that only waits).</summary>
    None,

    /// <summary>Bytes of files (a base backup restored).</summary>
    Bytes,

    /// <summary>Bytes of WAL (a restore's replay, from where it started toward its target).</summary>
    WalBytes,

    /// <summary>Table rows (copied or compared); their total is an estimate.</summary>
    Rows,
}
