namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// Tests that change the test process's current directory, which every process started meanwhile inherits (a daemon
/// another test starts, and so every program that daemon starts later). They run alone, after the parallel tests. A daemon
/// of another test that starts while the directory is switched keeps that folder as its own, and once the folder is
/// deleted, the runtime can no longer resolve the programs that daemon starts. The likely cause of a verify that failed
/// with "Unable to find the specified file" in a loaded CI run (VerifyProgressTerminalTests, session 17).
/// </summary>
[CollectionDefinition(nameof(CurrentDirectoryCollection), DisableParallelization = true)]
public sealed class CurrentDirectoryCollection;
