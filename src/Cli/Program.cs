using DataSync.Core.IO;

// `datasync start` runs the daemon or launches it: everything it creates under STATE_DIR is private to its user
// (and, under root, readable by PG_OS_USER's group, which the temporary restores need; see StateDirectory).
if (args is ["start", ..]) FileCreationMask.Set(StateDirectory.CreationMask(Environment.IsPrivilegedProcess));
return await DataSync.Cli.DataSyncCli.RunAsync(args, Console.Out, Console.Error, outputIsTerminal: !Console.IsOutputRedirected);
